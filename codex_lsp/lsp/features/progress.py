"""A turn as the editor sees it while it runs: work-done progress, ``codex/*`` notifications, log lines.

- **Work-done progress** for every client that supports it: created with
  ``window/workDoneProgress/create`` (or the request's own ``workDoneToken``), ``cancellable: true``
  (a cancel interrupts the turn), reporting the agent's latest line, the command running or the
  file being edited, and ending with the turn's status.
- **``codex/*`` notifications** for clients that declared ``experimental.codex``: one per agent
  event kind (``codex/turn/started``, ``codex/item/started``, ``codex/item/agentMessage/delta``,
  ``codex/item/reasoning/summaryDelta``, ``codex/item/completed``, ``codex/turn/completed``, and
  ``codex/turn/plan/updated``, ``codex/turn/fileChange/proposed``, ``codex/turn/command/started``,
  ``codex/turn/command/finished``, ``codex/turn/transport``), with camelCase fields;
  ``codex/turn/started`` also carries the turn's ``title`` (the prompt, or "Fix: <message>"; at most
  ``TITLE_MAX_CHARS`` characters, the last one "…" when it was cut: a title, not the prompt again).
- **Log lines** (``window/logMessage``, level ``Debug``) for every event except text deltas.

Deltas are **coalesced**: those arriving within one frame (16 ms) are sent as one notification per
item, so a fast model cannot flood the editor; any other event first flushes what is pending, so
order is kept and nothing is lost — the concatenated deltas of an item are its whole text, and its
``item/completed`` carries the final text anyway.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from lsprotocol import types

if TYPE_CHECKING:
    from codex_lsp.lsp.state import CodexServer

__all__ = ["FRAME_SECONDS", "TurnReporter", "begin_progress", "camel", "end_progress"]

log = logging.getLogger(__name__)

FRAME_SECONDS = 0.016
_DELTAS = {"item/agentMessage/delta", "item/reasoning/summaryDelta"}
_MAX_LINE = 200


def _camel_key(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def camel(value: Any) -> Any:
    """``value`` with every dictionary key in camelCase (``turn_id`` → ``turnId``)."""
    if isinstance(value, dict):
        return {_camel_key(k): camel(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [camel(v) for v in value]
    return value


def scrubbed(value: Any, scrub: Callable[[str], str]) -> Any:
    """``value`` with every string passed through ``scrub`` (no secret in a notification)."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {k: scrubbed(v, scrub) for k, v in value.items()}
    if isinstance(value, list):
        return [scrubbed(v, scrub) for v in value]
    return value


def _short(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= _MAX_LINE else line[: _MAX_LINE - 1] + "…"


def _when_cancelled(future: Any, on_cancel: Callable[[], None]) -> None:
    if future.cancelled():
        on_cancel()


async def begin_progress(
    server: CodexServer,
    token: types.ProgressToken | None,
    fallback_token: str,
    begin: types.WorkDoneProgressBegin,
    on_cancel: Callable[[], None],
) -> types.ProgressToken | None:
    """Start work-done progress on the client's ``token`` (or ``fallback_token``, created now) and call
    ``on_cancel`` when the user cancels it; ``None`` when the client has no progress or refused it."""
    if not server.state.caps.work_done_progress:
        return None
    if token is None:
        token = fallback_token
        # Known before it is created: a cancel that comes right after the client's answer, before the
        # begin below, is kept (pygls ignores a cancel for a token it does not know).
        server.work_done_progress.tokens.setdefault(token, Future())
        try:
            await server.protocol.send_request_async(
                types.WINDOW_WORK_DONE_PROGRESS_CREATE, types.WorkDoneProgressCreateParams(token=token)
            )
        except Exception as exc:  # the client refused or failed: the work runs without progress
            log.info("no progress for %s: %s", token, exc)
            server.work_done_progress.tokens.pop(token, None)
            return None
    server.work_done_progress.begin(token, begin)
    cancelled = server.work_done_progress.tokens.get(token)
    if cancelled is not None:
        cancelled.add_done_callback(lambda future: _when_cancelled(future, on_cancel))
    return token


def end_progress(server: CodexServer, token: types.ProgressToken | None, message: str) -> None:
    """End the progress ``token`` (nothing when ``None``) with ``message``, secrets removed."""
    if token is None:
        return
    server.work_done_progress.end(token, types.WorkDoneProgressEnd(message=server.state.scrub(message)))
    server.work_done_progress.tokens.pop(token, None)


class TurnReporter:
    """Reports one turn to the editor; ``push`` each agent event, ``end`` once."""

    def __init__(self, server: CodexServer, turn_id: str, title: str) -> None:
        from codex_lsp.agent import turn_title  # the agent loads with the first turn, not at start-up

        self.server = server
        self.turn_id = turn_id
        self.title = turn_title(title)
        """The prompt (or the fix) as a title: cut, ending in "…", when longer than ``TITLE_MAX_CHARS``."""
        self.token: types.ProgressToken | None = None
        self.streaming = server.state.caps.codex_streaming
        self._pending: dict[tuple[str, str], list[str]] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._texts: dict[str, str] = {}
        self._status_line = ""
        self._reported_line = ""
        self.sent = 0
        """Notifications sent (for tests of the coalescing)."""

    async def begin(self, token: types.ProgressToken | None, on_cancel: Callable[[], None]) -> None:
        """Start the work-done progress (the client's token, or one created now, named after the turn)."""
        begin = types.WorkDoneProgressBegin(title="Codex", message=_short(self.title), cancellable=True)
        self.token = await begin_progress(self.server, token, f"codex-turn-{self.turn_id}", begin, on_cancel)

    def push(self, event: Any) -> None:
        """Take one agent event (a pydantic model from the agent layer)."""
        kind: str = event.type
        if kind in _DELTAS:
            self._delta(kind, event.item_id, event.delta)
            return
        self.flush()
        self._note(kind, event)
        if self.streaming:
            payload = event.model_dump(mode="json")
            if kind == "turn/started":
                payload["title"] = self.title  # the prompt or the fix: what a transcript heads the turn with
            self._send("codex/" + kind, payload)
        if kind != "item/started":
            self.server.log(f"codex turn {self.turn_id}: {self._describe(kind, event)}")

    def flush(self) -> None:
        """Send the deltas gathered so far (one notification per item) and the latest status line."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        pending, self._pending = self._pending, {}
        for (kind, item_id), pieces in pending.items():
            if self.streaming:
                delta = "".join(pieces)
                self._send(
                    "codex/" + kind,
                    {"type": kind, "turn_id": self.turn_id, "item_id": item_id, "delta": delta},
                )
        self._report()

    def end(self, status: str, error: str | None = None) -> None:
        """Flush and end the progress with the turn's status."""
        self.flush()
        if self.token is None:
            return
        message = status if not error else f"{status}: {_short(error)}"
        end_progress(self.server, self.token, message)
        self.token = None

    # -- internals --------------------------------------------------------------------------------

    def _delta(self, kind: str, item_id: str, delta: str) -> None:
        self._pending.setdefault((kind, item_id), []).append(delta)
        if kind == "item/agentMessage/delta":
            text = self._texts.get(item_id, "") + delta
            self._texts[item_id] = text
            lines = [line for line in text.splitlines() if line.strip()]
            if lines:
                self._status_line = lines[-1]
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(FRAME_SECONDS, self.flush)

    def _note(self, kind: str, event: Any) -> None:
        """Keep the progress line current: the command running, the file being edited, thinking."""
        if kind == "turn/command/started":
            self._status_line = "$ " + " ".join(event.command)
        elif kind == "turn/fileChange/proposed":
            self._status_line = "editing " + ", ".join(change.path for change in event.changes)
        elif kind == "item/started" and event.item.type == "reasoning":
            self._status_line = "thinking…"
        elif kind == "turn/transport":
            self._status_line = event.message
        self._report()

    def _report(self) -> None:
        if self.token is None or not self._status_line or self._status_line == self._reported_line:
            return
        self._reported_line = self._status_line
        message = self.server.state.scrub(_short(self._status_line))
        self.server.work_done_progress.report(self.token, types.WorkDoneProgressReport(message=message))

    def _send(self, method: str, payload: dict[str, Any]) -> None:
        self.sent += 1
        self.server.notify(method, scrubbed(camel(payload), self.server.state.scrub))

    @staticmethod
    def _describe(kind: str, event: Any) -> str:
        item = getattr(event, "item", None)
        if kind == "item/completed" and item is not None:
            if item.type == "agentMessage":
                return "agent: " + _short(item.text)
            if item.type == "fileChange":
                paths = ", ".join(change.path for change in item.changes)
                return f"patch {item.status}: {paths}" + (f" ({item.message})" if item.message else "")
            if item.type == "commandExecution":
                return f"command {item.status}: {' '.join(item.command)} (exit {item.exit_code})"
            return f"{item.type} completed"
        if kind == "turn/completed":
            return f"turn {event.status}" + (f": {event.error}" if event.error else "")
        if kind == "turn/transport":
            return str(event.message)
        if kind == "turn/command/started":
            return "$ " + " ".join(event.command)
        return kind
