"""``graph-emulator --host 127.0.0.1 --port 8080 [--tenant-id GUID] [--seed-demo]``."""

from __future__ import annotations

import argparse
import logging

import uvicorn

from graph_emulator.app import create_app
from graph_emulator.defaults import DEFAULT_TENANT_ID
from graph_emulator.ids import is_guid


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="graph-emulator", description="Microsoft Graph v1.0 emulator (test-only)."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--tenant-id", default=DEFAULT_TENANT_ID, help="tenant (organization) id")
    parser.add_argument(
        "--seed-demo",
        action="store_true",
        help="start with the demo tenant instead of an empty one",
    )
    parser.add_argument("--log-level", default="warning")
    options = parser.parse_args(argv)
    if not is_guid(options.tenant_id):
        parser.error("--tenant-id must be a GUID")
    logging.basicConfig(level=options.log_level.upper())
    app = create_app(options.tenant_id, seed_demo=options.seed_demo)
    uvicorn.run(
        app,
        host=options.host,
        port=options.port,
        log_level=options.log_level,
        access_log=False,
        lifespan="on",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
