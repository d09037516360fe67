"""SecantusDB's own command line (``python -m secantus``), run without its TTL sweeper.

The sweeper thread keeps a WiredTiger session open between its rounds. Under a
sustained stream of inserts (a full snapshot stores over 100 MB in seconds) a round
that meets a write can leave the server wedged: the writer holds the store's lock
while WiredTiger makes it wait, and the sweeper waits for that lock, so every later
request goes unanswered. Nothing Rewind relies on expires by TTL within a test or a
benchmark (mongod's own monitor only runs once a minute): a difference report deletes
its staging when it ends; the TTL indexes are production's safety net.

Run as a script, not a module, so it works from any directory.
"""

from __future__ import annotations

import functools

from secantus import cli
from secantus.server import SecantusDBServer


def main() -> int:
    setattr(cli, "SecantusDBServer", functools.partial(SecantusDBServer, ttl_sweep_seconds=0))  # noqa: B010
    return int(cli.main())


if __name__ == "__main__":
    raise SystemExit(main())
