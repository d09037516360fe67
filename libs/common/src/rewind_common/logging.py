"""Structured logging with secrets redacted before anything reaches a handler."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

_SECRET_PATTERNS = [
    # bearer tokens in headers or messages
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9\-._~+/]+=*"), r"\1[redacted]"),
    # key=value style secrets
    (
        re.compile(
            r"(?i)((?:client_?secret|password|access_?token|refresh_?token|api_?key|token)"
            r"[\"']?\s*[:=]\s*[\"']?)[^\s\"',;&]+"
        ),
        r"\1[redacted]",
    ),
    # credentials inside connection URLs (mongodb://user:pass@host)
    (re.compile(r"(?i)([a-z][a-z0-9+.\-]*://[^:/\s@]+:)[^@\s/]+@"), r"\1[redacted]@"),
    # our own API tokens
    (re.compile(r"rwd_[A-Za-z0-9_\-]{16,}"), "[redacted]"),
]


def redact(text: str) -> str:
    """Mask anything that looks like a credential in ``text``."""
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg = redact(message)
        record.args = None
        return True


class JsonFormatter(logging.Formatter):
    _STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in self._STANDARD and not key.startswith("_"):
                entry[key] = _redacted(value)
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


def _redacted(value: Any) -> Any:
    """``value`` (a log record's extra field) with credentials masked, kept as JSON."""
    if isinstance(value, str):
        return redact(value)
    masked = redact(json.dumps(value, default=str))
    try:
        return json.loads(masked)
    except ValueError:
        return masked


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    """Configure the root logger once per process: one stream handler, redaction on."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # The HTTP client logs full URLs and headers at INFO/DEBUG; keep it quiet.
    for noisy in ("httpx", "httpcore", "azure", "msal"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
