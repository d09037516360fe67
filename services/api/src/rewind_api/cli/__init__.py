"""The ``rewind`` CLI (typer + rich), talking to the REST API."""

from __future__ import annotations


def main() -> None:
    from rewind_api.cli.main import app

    app()
