"""``rewind recover``: recoveries."""

from __future__ import annotations

import typer

app = typer.Typer(help="Recover objects from a snapshot or a difference report.")
