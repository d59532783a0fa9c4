"""Logging for the server modes: stderr or a file, never stdout, and no secret in any line.

In ``--stdio`` mode stdout carries the protocol, so the one handler writes to stderr (editors show it
in their output panel) or to ``--log-file``. pygls logs every message it sends at INFO and
websockets logs every frame at DEBUG; their chatter is kept to warnings unless the level is
``debug``, so ``info`` stays readable. A filter replaces registered secrets (the connection
token) in every record, whichever library logged it.

Standard library only: the command line validates ``--log-level`` with it before pygls loads.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

LOG_LEVELS = ("debug", "info", "warning", "error")
CHATTY_LOGGERS = ("pygls", "websockets")
REDACTED = "[redacted]"
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RedactSecrets(logging.Filter):
    """Replace each registered secret in a record's message and traceback with ``[redacted]``."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: list[str] = []

    def add(self, secret: str) -> None:
        """Redact ``secret`` from now on."""
        if secret and secret not in self._secrets:
            self._secrets.append(secret)

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops it."""
        if not self._secrets:
            return True
        record.msg = self._redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self._redact(record.stack_info)
        return True

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text


def level_number(name: str) -> int:
    """The ``logging`` level for one of ``LOG_LEVELS``."""
    if name not in LOG_LEVELS:
        raise ValueError(f"unknown log level {name!r}; choose from {', '.join(LOG_LEVELS)}")
    return logging.getLevelNamesMapping()[name.upper()]


def configure_logging(level: str, log_file: Path | None = None) -> RedactSecrets:
    """Send all logging to stderr (or ``log_file``, appended) at ``level``; return the secrets filter.

    Replaces any handler already on the root logger. Raises ``OSError`` when the file cannot be
    opened, before anything is changed.
    """
    number = level_number(level)
    handler: logging.Handler = (
        logging.FileHandler(log_file, encoding="utf-8") if log_file else logging.StreamHandler(sys.stderr)
    )
    handler.setFormatter(logging.Formatter(_FORMAT))
    redact = RedactSecrets()
    handler.addFilter(redact)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(number)
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(number if number <= logging.DEBUG else max(number, logging.WARNING))
    logging.captureWarnings(True)
    return redact
