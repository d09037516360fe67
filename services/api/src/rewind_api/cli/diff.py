"""``rewind diff``: difference reports."""

from __future__ import annotations

import typer

app = typer.Typer(help="Create and show difference reports.", no_args_is_help=True)
