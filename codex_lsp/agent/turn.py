"""One turn: request → stream → tools → outputs back → … until the model answers without tools.

The loop keeps three promises:

- **Every tool call gets exactly one output**, in call order, echoed after the call items as the
  Responses API expects — unknown tools and crashing tools answer with an error, cancelled ones
  with ``aborted``.
- **Only completed responses change files.** Read-only tools start the moment their call item
  completes; mutating tools (``apply_patch``, ``shell``) wait for ``response.completed`` and then
  run one at a time. If the transport retries mid-response (it resends the same request), the
  abandoned attempt's reads are dropped and nothing it asked for has touched the workspace.
- **Cancellation is prompt and local.** Cancelling the task stops the stream at its next await
  (the model session drops only its own socket), cancels running tools, answers their calls as
  aborted in the history, and ends the turn as ``interrupted``. An interrupt is checked again
  (:func:`~codex_lsp.agent.cancellation.checkpoint`) before every model request, on every
  streamed event and before every mutating tool, so one that arrived during synchronous work, or
  was swallowed below, still stops the turn before it sends another request or changes a file.

All requests of a turn go through one :class:`TurnSession`, so they share the turn-state token;
the next turn gets a fresh session, hence none.

The events a turn emits never show a configured secret (the model, or a proxy, may stream a key
back): text deltas go through a :class:`~codex_lsp.agent.masking.StreamMask` per item, completed
items and the final message through the client's ``scrub``. The history keeps the model's words as
they were; the thread file masks them as it writes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any, Literal

from codex_lsp.agent.cancellation import absorb_late_interrupt, checkpoint
from codex_lsp.agent.events import (
    AgentMessageDelta,
    AgentMessageItem,
    ItemCompleted,
    ItemStarted,
    ReasoningItem,
    ReasoningSummaryDelta,
    TransportNotice,
    TurnCompleted,
    TurnEvent,
    TurnResult,
    TurnStarted,
    TurnStatus,
    UsageTotals,
)
from codex_lsp.agent.masking import StreamMask
from codex_lsp.agent.threads import Thread
from codex_lsp.agent.tools.base import ToolCall, ToolContext, ToolInterrupted, ToolRegistry, ToolResult
from codex_lsp.model import (
    FallbackNotice,
    ModelClient,
    ModelError,
    OutputItem,
    OutputItemAdded,
    OutputItemDone,
    OutputTextDelta,
    Prompt,
    ReasoningSummaryTextDelta,
    ResponseCompleted,
    RetryNotice,
    StreamEvent,
    TurnSession,
    Usage,
)

__all__ = ["ABORTED", "TurnRunner"]

log = logging.getLogger(__name__)

ABORTED = "aborted: the user interrupted the turn before this call finished"
_CALL_TYPES = {"function_call": "function", "custom_tool_call": "custom"}


@dataclass
class _Attempt:
    """What the current streamed response has produced so far (reset when the transport retries)."""

    items: list[dict[str, Any]] = field(default_factory=list)
    calls: list[ToolCall] = field(default_factory=list)
    reads: dict[str, asyncio.Task[ToolResult]] = field(default_factory=dict)
    outputs: dict[str, ToolResult] = field(default_factory=dict)
    item_ids: dict[str, str] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    masks: dict[str, StreamMask] = field(default_factory=dict)
    """Our item id → what of its streamed text is held back (a possible start of a secret; shown when
    the item completes, never when the turn is interrupted first)."""
    last_message: str | None = None
    recorded: bool = False
    """Whether ``items`` are in the thread history already."""

    async def stop_reads(self) -> None:
        """Cancel read-only tools still running and wait for them to end."""
        for task in self.reads.values():
            task.cancel()
        for task in self.reads.values():
            with contextlib.suppress(BaseException):
                await task

    async def reset(self) -> None:
        await self.stop_reads()
        fresh = _Attempt()
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(fresh, name))

    def output_of(self, call: ToolCall) -> str:
        """The call's output if it finished, else the aborted marker."""
        if call.call_id in self.outputs:
            return self.outputs[call.call_id].output
        task = self.reads.get(call.call_id)
        if task is not None and task.done() and not task.cancelled() and task.exception() is None:
            return task.result().output
        return ABORTED


@dataclass
class _Totals:
    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0
    reasoning_output_tokens: int = 0
    total_tokens: int = 0

    def add(self, usage: Usage | None) -> None:
        if usage is None:
            return
        self.input_tokens += usage.input_tokens
        self.output_tokens += usage.output_tokens
        self.total_tokens += usage.total_tokens
        self.cached_input_tokens += int((usage.input_tokens_details or {}).get("cached_tokens") or 0)
        self.reasoning_output_tokens += int((usage.output_tokens_details or {}).get("reasoning_tokens") or 0)

    def frozen(self) -> UsageTotals:
        return UsageTotals(**self.__dict__)


class TurnRunner:
    """Runs turns of one agent: its model client, tools and host interfaces."""

    def __init__(
        self,
        client: ModelClient,
        registry: ToolRegistry,
        make_context: Callable[[str], ToolContext],
        emit: Callable[[TurnEvent], None],
        *,
        instructions: dict[str, Any] | None,
        max_rounds: int,
    ) -> None:
        self.client = client
        self.registry = registry
        self.make_context = make_context
        self.emit = emit
        self.instructions = instructions
        self.max_rounds = max_rounds

    async def run(
        self,
        thread: Thread,
        new_items: list[dict[str, Any]],
        *,
        title: str,
        model: str | None = None,
        turn_id: str | None = None,
    ) -> TurnResult:
        """Run one turn on ``thread`` whose new input is ``new_items``.

        Never raises: failures and cancellation end the turn with a status (a cancelled task
        returns its ``interrupted`` result instead of propagating ``CancelledError``).
        """
        turn_id = turn_id or str(uuid.uuid4())
        ctx = self.make_context(turn_id)
        totals = _Totals()
        self.emit(TurnStarted(thread_id=thread.id, turn_id=turn_id))
        thread.append(turn_id, new_items)
        session = self.client.new_turn(model or thread.model, thread_id=thread.id, turn_id=turn_id)
        attempt = _Attempt()
        status: TurnStatus = "completed"
        message, error = "", None
        try:
            for _ in range(self.max_rounds):
                await checkpoint()
                await attempt.reset()
                await self._request(session, thread, ctx, attempt, totals)
                message = attempt.last_message if attempt.last_message is not None else message
                await self._finish_calls(thread, turn_id, ctx, attempt)
                if not attempt.calls:
                    break
            else:
                status, error = "failed", f"the turn made {self.max_rounds} model requests without finishing"
        except asyncio.CancelledError:
            status, error = "interrupted", None
            await self._record_interrupted(thread, turn_id, attempt)
        except ModelError as exc:
            status, error = "failed", exc.message
        result = TurnResult(
            thread_id=thread.id,
            turn_id=turn_id,
            status=status,
            message=self.client.scrub(message),
            changed_files=tuple(ctx.changed_files),
            usage=totals.frozen(),
            error=error,
            proposal_id=ctx.proposal_id,
        )
        thread.finish_turn(turn_id, status, title)
        self.emit(TurnCompleted(**dict(result)))
        await absorb_late_interrupt()
        return result

    async def _request(
        self, session: TurnSession, thread: Thread, ctx: ToolContext, attempt: _Attempt, totals: _Totals
    ) -> None:
        """Stream one model request into ``attempt`` (emptied again when the transport retries)."""
        head = [self.instructions] if self.instructions is not None else []
        prompt = Prompt(input=[*head, *thread.history], tools=self.registry.specs())
        async with aclosing(session.stream(prompt)) as events:
            async for event in events:
                await checkpoint()
                await self._on_event(ctx, attempt, totals, event)

    async def _on_event(
        self, ctx: ToolContext, attempt: _Attempt, totals: _Totals, event: StreamEvent
    ) -> None:
        if isinstance(event, RetryNotice | FallbackNotice):
            kind: Literal["retry", "fallback"] = "retry" if isinstance(event, RetryNotice) else "fallback"
            self.emit(TransportNotice(turn_id=ctx.turn_id, kind=kind, message=event.message))
            await attempt.reset()
        elif isinstance(event, OutputItemAdded):
            self._item_added(ctx, attempt, event.item)
        elif isinstance(event, OutputTextDelta):
            self._text_delta(ctx, attempt, event.item_id, event.delta, reasoning=False)
        elif isinstance(event, ReasoningSummaryTextDelta):
            self._text_delta(ctx, attempt, event.item_id, event.delta, reasoning=True)
        elif isinstance(event, OutputItemDone):
            self._item_done(ctx, attempt, event.item)
        elif isinstance(event, ResponseCompleted):
            totals.add(event.response.usage)

    def _item_added(self, ctx: ToolContext, attempt: _Attempt, item: OutputItem) -> None:
        if item.type not in ("message", "reasoning"):
            return
        ours = ctx.new_item_id("msg" if item.type == "message" else "reasoning")
        attempt.item_ids[item.id or ours] = ours
        attempt.texts[ours] = ""
        started = AgentMessageItem(id=ours) if item.type == "message" else ReasoningItem(id=ours)
        self.emit(ItemStarted(turn_id=ctx.turn_id, item=started))

    def _text_delta(
        self, ctx: ToolContext, attempt: _Attempt, item_id: str | None, delta: str, *, reasoning: bool
    ) -> None:
        ours = attempt.item_ids.get(item_id or "") or (next(reversed(attempt.item_ids.values()), None))
        if ours is None:
            return
        attempt.texts[ours] = attempt.texts.get(ours, "") + delta
        mask = attempt.masks.get(ours)
        if mask is None:
            mask = attempt.masks[ours] = StreamMask(*self.client.masking())
        self._emit_delta(ctx, ours, mask.feed(delta), reasoning=reasoning)

    def _emit_delta(self, ctx: ToolContext, item_id: str, shown: str, *, reasoning: bool) -> None:
        if not shown:
            return
        if reasoning:
            self.emit(ReasoningSummaryDelta(turn_id=ctx.turn_id, item_id=item_id, delta=shown))
        else:
            self.emit(AgentMessageDelta(turn_id=ctx.turn_id, item_id=item_id, delta=shown))

    def _flush_mask(self, ctx: ToolContext, attempt: _Attempt, item_id: str, *, reasoning: bool) -> None:
        """Show what the item's mask still holds back (the item ended)."""
        mask = attempt.masks.pop(item_id, None)
        if mask is not None:
            self._emit_delta(ctx, item_id, mask.flush(), reasoning=reasoning)

    def _item_done(self, ctx: ToolContext, attempt: _Attempt, item: OutputItem) -> None:
        attempt.items.append(item.as_input())
        if item.type in _CALL_TYPES:
            self._call_done(ctx, attempt, item)
            return
        if item.type not in ("message", "reasoning"):
            return
        ours = attempt.item_ids.get(item.id or "") or ctx.new_item_id("msg")
        scrub = self.client.scrub
        self._flush_mask(ctx, attempt, ours, reasoning=item.type == "reasoning")
        if item.type == "message":
            text = _message_text(item) or attempt.texts.get(ours, "")
            attempt.last_message = text
            self.emit(ItemCompleted(turn_id=ctx.turn_id, item=AgentMessageItem(id=ours, text=scrub(text))))
        else:
            summary = _reasoning_text(item) or attempt.texts.get(ours, "")
            self.emit(ItemCompleted(turn_id=ctx.turn_id, item=ReasoningItem(id=ours, summary=scrub(summary))))

    def _call_done(self, ctx: ToolContext, attempt: _Attempt, item: OutputItem) -> None:
        extra = item.model_extra or {}
        raw = extra.get("input") if item.type == "custom_tool_call" else extra.get("arguments")
        call = ToolCall(
            call_id=item.call_id or item.id or ctx.new_item_id("call"),
            name=item.name or "",
            kind="custom" if item.type == "custom_tool_call" else "function",
            arguments=raw if isinstance(raw, str) else "",
        )
        attempt.calls.append(call)
        tool = self.registry.get(call.name)
        if tool is not None and not tool.mutating:
            attempt.reads[call.call_id] = asyncio.create_task(self._run_tool(call, ctx))

    async def _finish_calls(self, thread: Thread, turn_id: str, ctx: ToolContext, attempt: _Attempt) -> None:
        """Run the completed response's mutating calls in order, collect every output, record all."""
        thread.append(turn_id, attempt.items)
        attempt.recorded = True
        for call in attempt.calls:
            task = attempt.reads.get(call.call_id)
            if task is None:
                await checkpoint()
            try:
                attempt.outputs[call.call_id] = (
                    await task if task is not None else await self._run_tool(call, ctx)
                )
            except ToolInterrupted as exc:
                attempt.outputs[call.call_id] = exc.result
                raise
        thread.append(
            turn_id, [_output_item(call, attempt.outputs[call.call_id].output) for call in attempt.calls]
        )

    async def _run_tool(self, call: ToolCall, ctx: ToolContext) -> ToolResult:
        tool = self.registry.get(call.name)
        if tool is None:
            known = ", ".join(self.registry.names())
            return ToolResult(
                output=f"unknown tool: {call.name!r}; the available tools are {known}", success=False
            )
        try:
            return await tool.run(call, ctx)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a tool bug must not end the turn; the model is told instead
            log.exception("tool %s failed", call.name)
            return ToolResult(output=f"{call.name} failed unexpectedly: {exc}", success=False)

    async def _record_interrupted(self, thread: Thread, turn_id: str, attempt: _Attempt) -> None:
        """Keep what the cancelled response finished and answer each of its calls exactly once."""
        await attempt.stop_reads()
        if not attempt.recorded:
            thread.append(turn_id, attempt.items)
        thread.append(turn_id, [_output_item(call, attempt.output_of(call)) for call in attempt.calls])


def _output_item(call: ToolCall, output: str) -> dict[str, Any]:
    kind = "custom_tool_call_output" if call.kind == "custom" else "function_call_output"
    return {"type": kind, "call_id": call.call_id, "output": output}


def _message_text(item: OutputItem) -> str:
    content = (item.model_extra or {}).get("content") or []
    return "".join(part.get("text", "") for part in content if isinstance(part, dict))


def _reasoning_text(item: OutputItem) -> str:
    summary = (item.model_extra or {}).get("summary") or []
    return "\n".join(part.get("text", "") for part in summary if isinstance(part, dict))
