"""The ACP stream on stdio: one JSON-RPC message per line, read and written here for the SDK's connection.

The SDK's own reader hands every line that parses to its dispatcher, which takes it for an object: a
line of valid JSON that is not one (``[1,2]``, ``42``, ``"text"``) ended the agent, and a line that is
not JSON was skipped without an answer. :class:`LineTransport` is the SDK's message transport with
JSON-RPC 2.0's rules for what arrives:

- a line that is not JSON (``NaN`` and ``Infinity`` included: they are not JSON either) is answered
  with a Parse error;
- JSON that is not an object (an array would be a batch, which ACP does not use), or an object with
  neither ``method`` nor ``id``, is answered with an Invalid Request;
- an ``id`` that is not a string, a number or ``null`` is answered with an Invalid Request;
- a ``method`` that is not a string: an Invalid Request for a request, logged and dropped for a
  notification (which cannot be answered);

each with ``"id": null`` when no id can be read (JSON-RPC's rule), logged on stderr, and the next line
is read as ever. Everything else goes to the SDK unchanged. Blank lines are skipped, as the SDK does,
and a line may be longer than the reader's buffer (it is read in pieces, as the SDK reads it). Each
message is written as one line in one write, so nothing written here interleaves with the SDK's.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

__all__ = ["LineTransport", "Refused", "check_line"]

log = logging.getLogger(__name__)

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
_JSON_TYPES = {str: "a string", int: "a number", float: "a number", bool: "a boolean", type(None): "null"}


@dataclass(frozen=True)
class Refused:
    """A line that breaks the rules, and its answer (``None``: a notification, only logged)."""

    answer: dict[str, Any] | None


class LineTransport:
    """The SDK's ``Transport`` over a byte stream of lines, keeping JSON-RPC's rules (module docstring)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    async def send(self, message: dict[str, Any]) -> None:
        self._writer.write(json.dumps(message, separators=(",", ":")).encode("utf-8") + b"\n")
        await self._writer.drain()

    async def receive(self) -> dict[str, Any] | None:
        """The next message for the SDK; ``None`` at the end of the stream."""
        while True:
            line = await self._read_line()
            if not line:
                return None
            if not line.strip():
                continue
            checked = check_line(line)
            if not isinstance(checked, Refused):
                return checked
            if checked.answer is not None:
                await self.send(checked.answer)

    async def close(self) -> None:
        """Nothing to release: stdin and stdout belong to the process (the SDK's stdio does the same)."""

    async def _read_line(self) -> bytes:
        pieces: list[bytes] = []
        while True:
            try:
                pieces.append(await self._reader.readuntil(b"\n"))
            except asyncio.LimitOverrunError as exc:  # longer than the buffer: take what is there, go on
                pieces.append(await self._reader.readexactly(exc.consumed))
            except asyncio.IncompleteReadError as exc:  # the last line, without its newline
                pieces.append(exc.partial)
                return b"".join(pieces)
            else:
                return b"".join(pieces)


def check_line(line: bytes) -> dict[str, Any] | Refused:
    """The message a line carries, for the SDK, or why it is refused (module docstring)."""
    try:
        data = json.loads(line, parse_constant=_not_json)
    except (ValueError, RecursionError) as exc:
        return _refused(None, PARSE_ERROR, f"Parse error: the line is not JSON ({str(exc)[:80]})")
    if not isinstance(data, dict):
        what = _JSON_TYPES.get(type(data), "an array (batches are not part of ACP)")
        return _refused(None, INVALID_REQUEST, f"Invalid Request: a message is a JSON object, not {what}")
    if "id" in data and not _valid_id(data["id"]):
        return _refused(None, INVALID_REQUEST, "Invalid Request: an id is a string, a number or null")
    if "method" in data and not isinstance(data["method"], str):
        if "id" not in data:
            log.warning("Dropped a notification whose method is not a string: %.80r", data["method"])
            return Refused(None)
        return _refused(data["id"], INVALID_REQUEST, "Invalid Request: the method is not a string")
    if "method" not in data and "id" not in data:
        return _refused(None, INVALID_REQUEST, "Invalid Request: neither a method nor an id")
    return data


def _valid_id(value: Any) -> bool:
    return value is None or (isinstance(value, str | int | float) and not isinstance(value, bool))


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def _refused(message_id: Any, code: int, message: str) -> Refused:
    log.warning("Answered a line that breaks JSON-RPC's rules: %s", message)
    return Refused({"jsonrpc": "2.0", "id": message_id, "error": {"code": code, "message": message}})
