"""Scripts for the fake Responses server, and the events each scripted response expands to.

A script is a list of turns, each a list of requests; each request (a :class:`Step`) says what the model
answers — messages, tool calls, reasoning — which turn-state tokens to hand out, and which fault to inject.
Steps are consumed in order, one per generating request (prewarms are answered without consuming one), so
"fail once, then succeed" is two steps. Scripts load from JSON so the demo and the tests can share them::

    {"turns": [{"requests": [
        {"output": [{"type": "custom_tool_call", "name": "apply_patch", "input": "*** Begin Patch..."}],
         "turn_state": "ts-1"},
        {"output": [{"type": "message", "text": "Done."}]}]}],
     "handshake_faults": [{"status": 426}], "upgrade_turn_state": "stale"}

:func:`render_response` turns a step into the same event sequence the Responses API streams (created,
metadata, item added / deltas / done, completed), shaped so that every standard event validates against
the official ``openai`` SDK types.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CustomToolCallOut",
    "Fault",
    "FunctionCallOut",
    "HandshakeFault",
    "MessageOut",
    "ReasoningOut",
    "ResponseIds",
    "Script",
    "Step",
    "Turn",
    "failure_events",
    "render_response",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MessageOut(_Strict):
    """An assistant message, streamed as text deltas."""

    type: Literal["message"] = "message"
    text: str
    phase: Literal["commentary", "final_answer"] | None = None


class CustomToolCallOut(_Strict):
    """A freeform tool call (apply_patch), its input streamed as deltas."""

    type: Literal["custom_tool_call"] = "custom_tool_call"
    name: str = "apply_patch"
    input: str
    call_id: str | None = None


class FunctionCallOut(_Strict):
    """A function tool call; ``arguments`` may be given as an object and is sent as a JSON string."""

    type: Literal["function_call"] = "function_call"
    name: str
    arguments: str | dict[str, Any] = "{}"
    call_id: str | None = None


class ReasoningOut(_Strict):
    """A reasoning item with summary parts (streamed) and opaque encrypted content."""

    type: Literal["reasoning"] = "reasoning"
    summary: list[str] = Field(default_factory=list)
    encrypted_content: str | None = None


Output = Annotated[
    MessageOut | CustomToolCallOut | FunctionCallOut | ReasoningOut, Field(discriminator="type")
]

FaultKind = Literal[
    "close", "status", "malformed_json", "binary", "silence", "failed", "error_event", "incomplete"
]


class Fault(_Strict):
    """A fault injected into one response, after ``after_events`` of its events were sent.

    - ``close``: drop the connection (WS: TCP close without a close frame; HTTP: end the body);
    - ``status``: HTTP: reply ``status`` instead of 200; WS: send an ``error`` frame wrapping ``status``;
    - ``malformed_json``: send a frame / data line that is not JSON, then continue normally;
    - ``binary``: WS: send a binary frame, then continue (HTTP: treated as ``malformed_json``);
    - ``silence``: send nothing more and keep the connection open;
    - ``failed``: end with ``response.failed`` carrying ``code``;
    - ``error_event``: send an ``error`` event carrying ``code`` (no status), e.g.
      ``websocket_connection_limit_reached``;
    - ``incomplete``: end with ``response.incomplete`` (reason ``max_output_tokens``).
    """

    kind: FaultKind
    after_events: int = 0
    status: int = 500
    code: str | None = None
    message: str = "injected fault"
    retry_after: float | None = None
    """Sent as a ``Retry-After`` header (seconds)."""


class Step(_Strict):
    """The server's answer to one generating request."""

    output: list[Output] = Field(default_factory=list)
    turn_state: str | None = None
    """Token delivered by a metadata event (WebSocket and SSE)."""
    extra_turn_states: list[str] = Field(default_factory=list)
    """Further metadata events in the same response (first-value-wins tests)."""
    metadata_event: Literal["response.metadata", "codex.response.metadata"] = "response.metadata"
    header_turn_state: str | None = None
    """Token delivered in the ``x-codex-turn-state`` HTTP response header."""
    prewarm_turn_state: str | None = None
    """Token handed to a ``generate:false`` prewarm that arrives while this step is next."""
    served_model: str | None = None
    """Model named in metadata / ``openai-model``; defaults to the requested model."""
    rate_limits: bool = False
    """Also emit a ``codex.rate_limits`` event."""
    fault: Fault | None = None
    delay_ms: int = 0
    """Pause before each event (slow streaming)."""
    ping: bool = False
    """WebSocket: send a ping before the first event (the client must answer)."""
    close_after: bool = False
    """WebSocket: close the socket (close frame 1001) once the response has completed, as a server that
    retires an idle connection does; the client's next request has to open a new one."""
    chunk_size: int = Field(default=16, gt=0)
    """Characters per delta."""
    usage: dict[str, Any] | None = None
    """The ``usage`` of ``response.completed`` (default: 100 tokens in, none cached, 20 out, 120 in all)."""


class Turn(_Strict):
    """The requests of one logical turn, for readability; the server consumes steps in order."""

    requests: list[Step]


class HandshakeFault(_Strict):
    """Refuse one WebSocket upgrade with ``status`` (426 makes clients fall back to HTTP), or, with
    ``hang``, never answer it (the client's connect timeout must fire)."""

    status: int = 0
    hang: bool = False
    code: str | None = None
    message: str = "upgrade refused"


class Script(_Strict):
    """Everything the fake model will do."""

    turns: list[Turn] = Field(default_factory=list)
    handshake_faults: list[HandshakeFault] = Field(default_factory=list)
    """Consumed one per WebSocket handshake, before any is accepted."""
    upgrade_turn_state: str | None = None
    """Advertised in the ``x-codex-turn-state`` header of every 101 reply (clients must not use it)."""

    @classmethod
    def load(cls, path: str | Path) -> Script:
        """Read a script from a JSON file."""
        return cls.model_validate_json(Path(path).read_text(encoding="utf-8"))

    def steps(self) -> list[Step]:
        """All steps, turn after turn."""
        return [step for turn in self.turns for step in turn.requests]


@dataclass
class ResponseIds:
    """Id counters for one server, so ids are unique across connections."""

    counter: int = 0

    def next(self, prefix: str) -> str:
        """A fresh id such as ``resp_7``."""
        self.counter += 1
        return f"{prefix}_{self.counter:04d}"


@dataclass
class _Stream:
    """Sequence numbering for one response."""

    events: list[dict[str, Any]] = field(default_factory=list)

    def add(self, event_type: str, **fields: Any) -> None:
        self.events.append({"type": event_type, "sequence_number": len(self.events), **fields})


def response_object(
    response_id: str, model: str, status: str, output: list[dict[str, Any]] | None = None, **extra: Any
) -> dict[str, Any]:
    """A ``Response`` object as the API returns it (the fields the SDK requires, plus ``extra``)."""
    return {
        "id": response_id,
        "object": "response",
        "created_at": int(time.time()),
        "model": model,
        "status": status,
        "output": output or [],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "metadata": {},
        "temperature": 1.0,
        "top_p": 1.0,
        **extra,
    }


def _chunks(text: str, size: int) -> Iterator[str]:
    for start in range(0, len(text), size):
        yield text[start : start + size]


def _message(s: _Stream, out: MessageOut, index: int, item_id: str, size: int) -> dict[str, Any]:
    base = {"id": item_id, "type": "message", "role": "assistant"}
    if out.phase:
        base["phase"] = out.phase
    s.add(
        "response.output_item.added",
        output_index=index,
        item={**base, "status": "in_progress", "content": []},
    )
    where = {"item_id": item_id, "output_index": index, "content_index": 0}
    s.add("response.content_part.added", **where, part={"type": "output_text", "text": "", "annotations": []})
    for piece in _chunks(out.text, size):
        s.add("response.output_text.delta", **where, delta=piece, logprobs=[])
    s.add("response.output_text.done", **where, text=out.text, logprobs=[])
    part = {"type": "output_text", "text": out.text, "annotations": []}
    s.add("response.content_part.done", **where, part=part)
    return {**base, "status": "completed", "content": [part]}


def _custom_call(
    s: _Stream, out: CustomToolCallOut, index: int, item_id: str, call_id: str, size: int
) -> dict[str, Any]:
    base = {"id": item_id, "type": "custom_tool_call", "call_id": call_id, "name": out.name}
    s.add("response.output_item.added", output_index=index, item={**base, "input": ""})
    for piece in _chunks(out.input, size):
        s.add("response.custom_tool_call_input.delta", item_id=item_id, output_index=index, delta=piece)
    s.add("response.custom_tool_call_input.done", item_id=item_id, output_index=index, input=out.input)
    return {**base, "input": out.input}


def _function_call(
    s: _Stream, out: FunctionCallOut, index: int, item_id: str, call_id: str, size: int
) -> dict[str, Any]:
    arguments = out.arguments if isinstance(out.arguments, str) else json.dumps(out.arguments)
    base = {"id": item_id, "type": "function_call", "call_id": call_id, "name": out.name}
    s.add(
        "response.output_item.added",
        output_index=index,
        item={**base, "arguments": "", "status": "in_progress"},
    )
    for piece in _chunks(arguments, size):
        s.add("response.function_call_arguments.delta", item_id=item_id, output_index=index, delta=piece)
    s.add(
        "response.function_call_arguments.done",
        item_id=item_id,
        output_index=index,
        arguments=arguments,
        name=out.name,
    )
    return {**base, "arguments": arguments, "status": "completed"}


def _reasoning(s: _Stream, out: ReasoningOut, index: int, item_id: str, size: int) -> dict[str, Any]:
    s.add(
        "response.output_item.added",
        output_index=index,
        item={"id": item_id, "type": "reasoning", "summary": []},
    )
    for n, text in enumerate(out.summary):
        where = {"item_id": item_id, "output_index": index, "summary_index": n}
        s.add("response.reasoning_summary_part.added", **where, part={"type": "summary_text", "text": ""})
        for piece in _chunks(text, size):
            s.add("response.reasoning_summary_text.delta", **where, delta=piece)
        s.add("response.reasoning_summary_text.done", **where, text=text)
        s.add("response.reasoning_summary_part.done", **where, part={"type": "summary_text", "text": text})
    item: dict[str, Any] = {
        "id": item_id,
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": t} for t in out.summary],
    }
    if out.encrypted_content is not None:
        item["encrypted_content"] = out.encrypted_content
    return item


def _item(s: _Stream, out: Output, index: int, ids: ResponseIds, size: int) -> dict[str, Any]:
    if isinstance(out, MessageOut):
        return _message(s, out, index, ids.next("msg"), size)
    if isinstance(out, CustomToolCallOut):
        return _custom_call(s, out, index, ids.next("ctc"), out.call_id or ids.next("call"), size)
    if isinstance(out, FunctionCallOut):
        return _function_call(s, out, index, ids.next("fc"), out.call_id or ids.next("call"), size)
    return _reasoning(s, out, index, ids.next("rs"), size)


def metadata_event(kind: str, token: str | None, model: str, sequence: int) -> dict[str, Any]:
    """A routing-metadata event as Codex 0.169 reads it: the token and the model in ``headers``."""
    headers: dict[str, str] = {"openai-model": model}
    if token is not None:
        headers["x-codex-turn-state"] = token
    return {"type": kind, "sequence_number": sequence, "headers": headers}


def render_response(
    step: Step, response_id: str, model: str, ids: ResponseIds
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Return ``(events, output items)`` of a successful response for ``step``."""
    s = _Stream()
    s.add("response.created", response=response_object(response_id, model, "in_progress"))
    for token in [t for t in (step.turn_state, *step.extra_turn_states) if t]:
        s.events.append(metadata_event(step.metadata_event, token, model, len(s.events)))
    if step.rate_limits:
        limits = {"primary": {"used_percent": 12.5, "window_minutes": 300}}
        s.add("codex.rate_limits", plan_type="pro", rate_limits=limits)
    s.add("response.in_progress", response=response_object(response_id, model, "in_progress"))
    items = []
    for index, out in enumerate(step.output):
        item = _item(s, out, index, ids, step.chunk_size)
        s.add("response.output_item.done", output_index=index, item=item)
        items.append(item)
    usage = step.usage or {
        "input_tokens": 100,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": 20,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 120,
    }
    s.add("response.completed", response=response_object(response_id, model, "completed", items, usage=usage))
    return s.events, items


def prewarm_events(response_id: str, model: str, token: str | None) -> list[dict[str, Any]]:
    """The answer to a ``generate:false`` request: created, optional metadata, completed, no output."""
    s = _Stream()
    s.add("response.created", response=response_object(response_id, model, "in_progress"))
    if token:
        s.events.append(metadata_event("response.metadata", token, model, len(s.events)))
    s.add("response.completed", response=response_object(response_id, model, "completed"))
    return s.events


def failure_events(
    fault: Fault, response_id: str, model: str, sequence: int, transport: str = "websocket"
) -> list[dict[str, Any]]:
    """The terminal event(s) a ``failed`` / ``incomplete`` / ``error_event`` fault sends; an ``error`` event
    is nested on WebSocket and flat on SSE, as the SDK types of each transport define it."""
    if fault.kind == "failed":
        error = {"code": fault.code or "server_error", "message": fault.message}
        response = response_object(response_id, model, "failed", error=error)
        return [{"type": "response.failed", "sequence_number": sequence, "response": response}]
    if fault.kind == "incomplete":
        details = {"reason": "max_output_tokens"}
        response = response_object(response_id, model, "incomplete", incomplete_details=details)
        return [{"type": "response.incomplete", "sequence_number": sequence, "response": response}]
    if transport == "http":
        flat = {"code": fault.code, "message": fault.message, "param": None}
        return [{"type": "error", "sequence_number": sequence, **flat}]
    nested = {"type": "invalid_request_error", "code": fault.code, "message": fault.message}
    return [{"type": "error", "sequence_number": sequence, "error": nested}]
