"""Server events of the Responses API, as pydantic models, and the one parser both transports use.

The WebSocket transport hands every text frame, and the HTTP transport every SSE ``data:`` payload, to
:func:`parse_event`. It dispatches on ``type``; types we do not use, and payloads that are not JSON, give
``None`` (upstream Codex ignores both, and a server may add events at any time). A known type whose payload
does not validate is a :class:`~codex_lsp.model.errors.ProtocolError`, because silently skipping, say, a
malformed ``response.completed`` would leave the turn waiting for the idle timeout.

Models are lenient about fields we do not read (``extra="allow"``) so that OpenAI-compatible servers that add
or omit optional fields keep working.
"""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from codex_lsp.model.errors import ProtocolError
from codex_lsp.model.turn_state import TURN_STATE_HEADER

__all__ = [
    "CustomToolCallInputDelta",
    "ErrorEvent",
    "FunctionCallArgumentsDelta",
    "OutputItem",
    "OutputItemAdded",
    "OutputItemDone",
    "OutputTextDelta",
    "RateLimitsEvent",
    "ReasoningSummaryPartAdded",
    "ReasoningSummaryTextDelta",
    "ReasoningTextDelta",
    "ResponseCompleted",
    "ResponseCreated",
    "ResponseFailed",
    "ResponseIncomplete",
    "ResponseMetadata",
    "ServerEvent",
    "Usage",
    "parse_event",
]

log = logging.getLogger(__name__)


class _Event(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    sequence_number: int | None = None


class OutputItem(BaseModel):
    """One output item (message, function_call, custom_tool_call, reasoning, …), kept whole.

    Extra fields are kept so that :meth:`as_input` can echo the item back to the model exactly as received.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    type: str
    id: str | None = None
    call_id: str | None = None
    name: str | None = None

    def as_input(self) -> dict[str, Any]:
        """Return the item as history input: as received, without its ``id`` (upstream never sends ids)."""
        return self.model_dump(exclude={"id"}, exclude_none=True)


class Usage(BaseModel):
    """Token usage of one response."""

    model_config = ConfigDict(extra="allow", frozen=True)

    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    input_tokens_details: dict[str, Any] | None = None
    output_tokens_details: dict[str, Any] | None = None


class ResponseError(BaseModel):
    """The ``error`` object of a failed response or an ``error`` event."""

    model_config = ConfigDict(extra="allow", frozen=True)

    code: str | None = None
    message: str = ""
    type: str | None = None


class ResponseObject(BaseModel):
    """The ``response`` object carried by created / completed / failed / incomplete events."""

    model_config = ConfigDict(extra="allow", frozen=True)

    id: str = ""
    model: str | None = None
    usage: Usage | None = None
    error: ResponseError | None = None
    incomplete_details: dict[str, Any] | None = None
    end_turn: bool | None = None


class ResponseCreated(_Event):
    """The server accepted the request."""

    type: Literal["response.created"]
    response: ResponseObject


class OutputItemAdded(_Event):
    """An output item started."""

    type: Literal["response.output_item.added"]
    item: OutputItem
    output_index: int | None = None


class OutputItemDone(_Event):
    """An output item is complete; tool calls are acted on here."""

    type: Literal["response.output_item.done"]
    item: OutputItem
    output_index: int | None = None


class OutputTextDelta(_Event):
    """A piece of assistant text."""

    type: Literal["response.output_text.delta"]
    delta: str
    item_id: str | None = None


class CustomToolCallInputDelta(_Event):
    """A piece of a freeform tool's input (apply_patch streams its patch this way)."""

    type: Literal["response.custom_tool_call_input.delta"]
    delta: str
    item_id: str | None = None
    call_id: str | None = None


class FunctionCallArgumentsDelta(_Event):
    """A piece of a function call's JSON arguments."""

    type: Literal["response.function_call_arguments.delta"]
    delta: str
    item_id: str | None = None


class ReasoningSummaryTextDelta(_Event):
    """A piece of the reasoning summary."""

    type: Literal["response.reasoning_summary_text.delta"]
    delta: str
    summary_index: int = 0
    item_id: str | None = None


class ReasoningSummaryPartAdded(_Event):
    """A new reasoning summary part begins."""

    type: Literal["response.reasoning_summary_part.added"]
    summary_index: int = 0
    item_id: str | None = None


class ReasoningTextDelta(_Event):
    """A piece of raw reasoning text."""

    type: Literal["response.reasoning_text.delta"]
    delta: str
    content_index: int = 0
    item_id: str | None = None


class ResponseCompleted(_Event):
    """Terminal success: the per-request read loop stops here."""

    type: Literal["response.completed"]
    response: ResponseObject


class ResponseFailed(_Event):
    """Terminal failure; the error code decides fatal or retryable (see :mod:`codex_lsp.model.retry`)."""

    type: Literal["response.failed"]
    response: ResponseObject


class ResponseIncomplete(_Event):
    """Terminal: the response stopped early (``incomplete_details.reason``)."""

    type: Literal["response.incomplete"]
    response: ResponseObject


class ErrorEvent(_Event):
    """An ``error`` frame; with a ``status`` it wraps an HTTP error (body = the frame, ``headers``)."""

    type: Literal["error"]
    error: ResponseError = Field(default_factory=ResponseError)
    code: str | None = None
    """SSE form: the code and message are flat on the event instead of under ``error``."""
    message: str | None = None
    status: int | None = None
    status_code: int | None = None
    headers: dict[str, Any] | None = None

    @property
    def http_status(self) -> int | None:
        """The wrapped HTTP status, from ``status`` or ``status_code``."""
        return self.status if self.status is not None else self.status_code

    @property
    def error_code(self) -> str | None:
        """The error code, from either form."""
        return self.error.code or self.code

    @property
    def error_message(self) -> str:
        """The error message, from either form."""
        return self.error.message or self.message or ""

    @property
    def error_headers(self) -> dict[str, str]:
        """Headers of a wrapped error, top-level or under ``error``."""
        nested = getattr(self.error, "headers", None)
        merged = {**(nested if isinstance(nested, dict) else {}), **(self.headers or {})}
        return {str(k): str(v) for k, v in merged.items()}


class ResponseMetadata(_Event):
    """Routing metadata: the turn-state token and the served model travel in ``headers``.

    ``codex.response.metadata`` is the older name; servers still send either, so both are accepted.
    """

    type: Literal["response.metadata", "codex.response.metadata"]
    headers: dict[str, Any] = Field(default_factory=dict)
    metadata: dict[str, Any] = Field(default_factory=dict)

    def header(self, name: str) -> str | None:
        """Return header ``name`` (case-insensitive); an array value gives its first element."""
        for key, value in self.headers.items():
            if key.lower() == name:
                if isinstance(value, list):
                    return str(value[0]) if value else None
                return None if value is None else str(value)
        return None

    @property
    def turn_state(self) -> str | None:
        """The ``x-codex-turn-state`` token, if this event carries one."""
        return self.header(TURN_STATE_HEADER) or None

    @property
    def server_model(self) -> str | None:
        """The model the server actually served, if it says."""
        return self.header("openai-model") or self.header("x-openai-model")


class RateLimitsEvent(_Event):
    """A rate-limit snapshot (``codex.rate_limits``)."""

    type: Literal["codex.rate_limits"]
    rate_limits: dict[str, Any] | None = None
    plan_type: str | None = None
    credits: dict[str, Any] | None = None


ServerEvent = Annotated[
    ResponseCreated
    | OutputItemAdded
    | OutputItemDone
    | OutputTextDelta
    | CustomToolCallInputDelta
    | FunctionCallArgumentsDelta
    | ReasoningSummaryTextDelta
    | ReasoningSummaryPartAdded
    | ReasoningTextDelta
    | ResponseCompleted
    | ResponseFailed
    | ResponseIncomplete
    | ErrorEvent
    | ResponseMetadata
    | RateLimitsEvent,
    Field(discriminator="type"),
]
"""Every server event the client acts on."""

_ADAPTER: TypeAdapter[ServerEvent] = TypeAdapter(ServerEvent)
_KNOWN_TYPES = frozenset(
    literal
    for model in (
        ResponseCreated,
        OutputItemAdded,
        OutputItemDone,
        OutputTextDelta,
        CustomToolCallInputDelta,
        FunctionCallArgumentsDelta,
        ReasoningSummaryTextDelta,
        ReasoningSummaryPartAdded,
        ReasoningTextDelta,
        ResponseCompleted,
        ResponseFailed,
        ResponseIncomplete,
        ErrorEvent,
        ResponseMetadata,
        RateLimitsEvent,
    )
    for literal in model.model_fields["type"].annotation.__args__  # type: ignore[union-attr]
)


def parse_event(payload: str | bytes) -> ServerEvent | None:
    """Parse one frame or SSE payload; ``None`` for non-JSON payloads and unknown event types.

    The fast path parses and validates in one step (pydantic's JSON parser), which more than halves the
    cost per event on a fast stream (bench/stream.py); anything it rejects takes the slow path below,
    which tells an unknown or unreadable payload (ignored) from a bad known event (an error).
    """
    try:
        return _ADAPTER.validate_json(payload)
    except ValidationError:
        pass
    try:
        data = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        log.debug("ignoring a payload that is not JSON (%d bytes)", len(payload))
        return None
    if not isinstance(data, dict):
        return None
    kind = data.get("type")
    if kind not in _KNOWN_TYPES:
        return None
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as exc:
        fields = ", ".join(".".join(map(str, err["loc"])) for err in exc.errors())
        raise ProtocolError(f"the server sent an invalid {kind} event (bad fields: {fields})") from None
