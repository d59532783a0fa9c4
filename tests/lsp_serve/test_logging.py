"""Logging in the server modes: one handler on stderr or a file, quiet libraries, no secrets."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

from codex_lsp.lsp.logging_setup import configure_logging, level_number

SECRET = "s3cret-token-value-0123456789"
pytestmark = pytest.mark.usefixtures("root_logging")


def test_info_logs_to_stderr_and_keeps_library_chatter_to_warnings() -> None:
    configure_logging("info")
    root = logging.getLogger()
    assert root.level == logging.INFO
    [handler] = root.handlers
    assert isinstance(handler, logging.StreamHandler)
    assert handler.stream is sys.stderr
    assert logging.getLogger("pygls").level == logging.WARNING
    assert logging.getLogger("websockets").level == logging.WARNING
    configure_logging("error")
    assert logging.getLogger("pygls").level == logging.ERROR


def test_debug_lets_the_libraries_speak() -> None:
    configure_logging("debug")
    assert logging.getLogger().level == logging.DEBUG
    assert logging.getLogger("pygls").level == logging.DEBUG


def test_a_log_file_gets_the_records_and_secrets_are_redacted_everywhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "server.log"
    redact = configure_logging("debug", path)
    redact.add(SECRET)
    log = logging.getLogger("pygls.protocol")
    log.debug("Sending data: %s", {"token": SECRET})
    try:
        raise ValueError(f"bad {SECRET}")
    except ValueError:
        log.exception("failed with %s", SECRET)
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = path.read_text(encoding="utf-8")
    assert "Sending data: {'token': '[redacted]'}" in text
    assert "failed with [redacted]" in text
    assert "ValueError: bad [redacted]" in text
    assert SECRET not in text
    assert capsys.readouterr().err == ""


def test_an_unopenable_log_file_changes_nothing(tmp_path: Path) -> None:
    before = list(logging.getLogger().handlers)
    with pytest.raises(OSError, match="No such file"):
        configure_logging("info", tmp_path / "missing" / "server.log")
    assert logging.getLogger().handlers == before


def test_unknown_levels_are_refused() -> None:
    assert level_number("warning") == logging.WARNING
    with pytest.raises(ValueError, match="choose from debug, info, warning, error"):
        level_number("verbose")
