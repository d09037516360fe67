"""``rewind-api``: serve the API with uvicorn on ``settings.api_host:api_port``."""

from __future__ import annotations

import uvicorn

from rewind_api.app import create_app
from rewind_common.logging import configure_logging
from rewind_common.settings import get_settings


def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    uvicorn.run(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        # Logging is configured above (JSON, secrets redacted); uvicorn must keep it.
        log_config=None,
        proxy_headers=True,
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    main()
