"""Structured logging for the server: JSON lines, and credentials kept out of every record."""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any

# Attributes every LogRecord has; anything else was passed through ``extra=``.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime", "color_message", "taskName"}
# A token in a query string or a bearer subprotocol, wherever a message quotes one.
_CREDENTIAL = re.compile(r"((?:[?&](?:access_)?token=)|(?:bearer\.))[^\s&\"',]+", re.IGNORECASE)


def redact(text: str) -> str:
    """Replace credentials in ``text`` with ``[redacted]``."""
    return _CREDENTIAL.sub(r"\1[redacted]", text)


class RedactCredentials(logging.Filter):
    """Rewrites records (uvicorn's access log included) so no token reaches a log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(redact(a) if isinstance(a, str) else a
                                for a in (record.args if isinstance(record.args, tuple)
                                          else (record.args,)))
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the record's extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def logging_config(level: str = "info", fmt: str = "text") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the runtime's and uvicorn's loggers."""
    formatter = {"()": f"{__name__}.JsonFormatter"} if fmt == "json" else {
        "format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    handler = {"class": "logging.StreamHandler", "formatter": "default",
               "filters": ["redact"], "stream": "ext://sys.stderr"}
    level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": f"{__name__}.RedactCredentials"}},
        "formatters": {"default": formatter},
        "handlers": {"default": handler},
        "loggers": {
            "migrator.runtime": {"handlers": ["default"], "level": level, "propagate": False},
            "uvicorn": {"handlers": ["default"], "level": level, "propagate": False},
            "uvicorn.access": {"handlers": ["default"], "level": level, "propagate": False},
        },
    }
