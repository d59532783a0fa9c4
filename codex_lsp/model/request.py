"""The ``response.create`` body: what the agent asks for, and how each transport sends it.

The agent always describes a request by the **whole** history so far (:class:`Prompt`). HTTP sends it whole
(the server keeps nothing between POSTs). On a reused WebSocket the previous response is still live on the
connection, so when every setting is unchanged and the new input extends the previous input plus the
server's output items, only the tail goes out with ``previous_response_id``; :func:`incremental_tail`
decides that.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from codex_lsp.model.turn_state import TURN_STATE_HEADER

__all__ = [
    "LastExchange",
    "Prompt",
    "RequestContext",
    "build_body",
    "http_body",
    "incremental_tail",
    "prewarm_prefix",
    "ws_frame",
]

RequestKind = Literal["turn", "prewarm"]


class Prompt(BaseModel):
    """One model request as the agent sees it: the full input history plus the request settings."""

    model_config = ConfigDict(frozen=True)

    input: list[dict[str, Any]]
    """The whole conversation so far (history echoed without item ids, then the new items)."""
    tools: list[dict[str, Any]] = Field(default_factory=list)
    instructions: str | None = None
    """Top-level instructions; omitted when empty (Codex 0.169 sends its base prompt as a developer
    message instead)."""
    parallel_tool_calls: bool = True
    reasoning: dict[str, Any] | None = None
    """Overrides the configured ``model_reasoning_effort`` / ``model_reasoning_summary``."""
    text: dict[str, Any] | None = None
    """Overrides the configured ``model_verbosity``."""
    service_tier: str | None = None
    hosted_tools: bool = True
    """Add the hosted tools the configuration offers (web search); a probe that only checks the connection
    turns them off."""


@dataclass(frozen=True)
class RequestContext:
    """Identity of one request: which thread, turn and model it belongs to, and the turn state to send."""

    session_id: str
    thread_id: str
    turn_id: str
    installation_id: str
    model: str
    turn_started_at_ms: int
    request_kind: RequestKind = "turn"
    turn_state: str | None = None

    @property
    def window_id(self) -> str:
        """Codex's window id: ``<thread>:<window index>``; we keep one window per thread."""
        return f"{self.thread_id}:0"

    @property
    def wire_turn_id(self) -> str:
        """The turn id as sent: Codex 0.169 sends ``""`` on a prewarm, which precedes the turn proper."""
        return "" if self.request_kind == "prewarm" else self.turn_id

    def turn_metadata(self) -> str:
        """The ``x-codex-turn-metadata`` JSON string (sent in client_metadata and as a header)."""
        fields: dict[str, object] = {
            "installation_id": self.installation_id,
            "session_id": self.session_id,
            "thread_id": self.thread_id,
            "turn_id": self.wire_turn_id,
            "window_id": self.window_id,
            "request_kind": self.request_kind,
        }
        if self.request_kind != "prewarm":
            fields["root_turn_id"] = self.turn_id
            fields["turn_started_at_unix_ms"] = self.turn_started_at_ms
        return json.dumps(fields, separators=(",", ":"))

    def base_metadata(self) -> dict[str, str]:
        """The client_metadata keys both transports send (0.169 sends no ``root_turn_id`` on a prewarm)."""
        metadata = {
            "session_id": self.session_id,
            "thread_id": self.thread_id,
            "turn_id": self.wire_turn_id,
            "x-codex-installation-id": self.installation_id,
            "x-codex-window-id": self.window_id,
            "x-codex-turn-metadata": self.turn_metadata(),
        }
        if self.request_kind != "prewarm":
            metadata["root_turn_id"] = self.turn_id
        return metadata


@dataclass
class LastExchange:
    """What a WebSocket connection remembers of its last completed response, for incremental requests."""

    settings: dict[str, Any]
    input: list[dict[str, Any]]
    response_id: str
    output: list[dict[str, Any]] = field(default_factory=list)


def build_body(
    prompt: Prompt, model: str, *, prompt_cache_key: str, fields: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The transport-neutral body: every field of a ``response.create`` except ``type``, ``generate`` and
    ``client_metadata``, which depend on the transport. ``fields`` are what the configuration and the
    model's catalog entry decide (:meth:`~codex_lsp.model.config.ModelSettings.request_fields`); the
    prompt's own ``reasoning``, ``text`` and ``service_tier`` win over them."""
    decided = fields or {}
    reasoning = prompt.reasoning if prompt.reasoning is not None else decided.get("reasoning")
    body: dict[str, Any] = {"model": model}
    if prompt.instructions:
        body["instructions"] = prompt.instructions
    body.update(
        input=list(prompt.input),
        tools=[*prompt.tools, *(decided.get("tools", []) if prompt.hosted_tools else [])],
        tool_choice="auto",
        parallel_tool_calls=prompt.parallel_tool_calls and decided.get("parallel_tool_calls", True),
        reasoning=reasoning,
        store=False,
        stream=True,
        include=list(decided.get("include", [])),
        prompt_cache_key=prompt_cache_key,
    )
    service_tier = prompt.service_tier or decided.get("service_tier")
    if service_tier:
        body["service_tier"] = service_tier
    text = prompt.text if prompt.text is not None else decided.get("text")
    if text:
        body["text"] = text
    return body


def settings_of(body: dict[str, Any]) -> dict[str, Any]:
    """Every field that must be unchanged for an incremental request (all but input and metadata)."""
    return {k: v for k, v in body.items() if k not in ("input", "client_metadata", "generate")}


def _strip_ids(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in item.items() if k != "id"} for item in items]


def incremental_tail(
    last: LastExchange | None, body: dict[str, Any]
) -> tuple[str, list[dict[str, Any]]] | None:
    """Return ``(previous_response_id, new items)`` when ``body`` may continue ``last``, else ``None``."""
    if last is None or not last.response_id or settings_of(body) != last.settings:
        return None
    prefix = _strip_ids(last.input + last.output)
    new_input: list[dict[str, Any]] = body["input"]
    if _strip_ids(new_input[: len(prefix)]) != prefix:
        return None
    return last.response_id, new_input[len(prefix) :]


def prewarm_prefix(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The input a prewarm sends: everything before the trailing run of user messages.

    Codex 0.169 prewarms with the history it already has (the base instructions on a first turn) and then
    sends the user's new message as the tail of a chained request; this reproduces that split.
    """
    end = len(items)
    while (
        end > 0
        and items[end - 1].get("type", "message") == "message"
        and items[end - 1].get("role") == "user"
    ):
        end -= 1
    return items[:end]


def ws_frame(
    body: dict[str, Any],
    ctx: RequestContext,
    *,
    continuation: tuple[str, list[dict[str, Any]]] | None,
    generate: bool = True,
) -> dict[str, Any]:
    """The flat ``response.create`` frame for WebSocket.

    ``x-codex-turn-state`` is **omitted** until the turn holds a token, as Codex 0.169 does on the wire
    (tests/model/test_codex_fidelity.py compares it); upstream's tests write ``""`` for the same state.
    """
    frame: dict[str, Any] = {"type": "response.create", **body}
    if continuation is not None:
        frame["previous_response_id"], frame["input"] = continuation[0], list(continuation[1])
    if not generate:
        frame["generate"] = False
    metadata = ctx.base_metadata()
    metadata["x-codex-ws-stream-request-start-ms"] = str(int(time.time() * 1000))
    if ctx.turn_state:
        metadata[TURN_STATE_HEADER] = ctx.turn_state
    frame["client_metadata"] = metadata
    return frame


def http_body(body: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    """The POST body for HTTP SSE: full input, no continuation; turn state travels as a header instead."""
    return {**body, "client_metadata": ctx.base_metadata()}
