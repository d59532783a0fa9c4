"""The ``apply_patch`` tool: a model patch becomes a file-change proposal the host applies.

Two variants, as Codex offers them: a freeform ``custom`` tool constrained by a Lark grammar (the
model sends raw patch text) and a JSON ``function`` with one ``input`` string (for models without
freeform tools). Either way the patch is parsed and matched against the :class:`Workspace`'s
file source — editor buffers first — so it fits what the user sees. Failures go back to the
model as output with the engine's hints (and to the host as a ``failed`` file-change item), and
what the engine repaired to read the patch (a fence, a unified header…) follows the output, one
``note:`` line each, applied or not, so the model learns the format;
success hands the changes to the :class:`ChangeApplier` — after asking the user when the approval
policy says so (:mod:`codex_lsp.agent.approval`; a denied change is a ``declined`` item). In review
mode the applier holds the changes instead, and the output says they are pending the user's review.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any, ClassVar, Literal

from codex_lsp.agent.approval import patch_reasons, patch_refusal
from codex_lsp.agent.events import (
    FileChangeEntry,
    FileChangeItem,
    FileChangeProposed,
    ItemCompleted,
    ItemStarted,
)
from codex_lsp.agent.interfaces import ApplyOutcome, ApprovalDecision, ApprovalRequest
from codex_lsp.agent.tools.base import Tool, ToolCall, ToolContext, ToolInterrupted, ToolResult, function_spec
from codex_lsp.patch import (
    FileChange,
    FileSource,
    PatchError,
    PatchResult,
    compute_changes,
    parse_patch,
    render_change,
)

__all__ = ["GRAMMAR", "ApplyPatchTool"]

GRAMMAR = r"""start: begin_patch hunk+ end_patch
begin_patch: "*** Begin Patch" LF
end_patch: "*** End Patch" LF?

hunk: add_hunk | delete_hunk | update_hunk
add_hunk: "*** Add File: " filename LF add_line*
delete_hunk: "*** Delete File: " filename LF
update_hunk: "*** Update File: " filename LF move_to? change?

filename: /(.+)/
add_line: "+" /(.*)/ LF -> line
move_to: "*** Move to: " filename LF

change: (context_line | change_line)+ end_of_file?
context_line: ("@@" | "@@ " /(.+)/) LF
change_line: ("+" | "-" | " ") /(.*)/ LF
end_of_file: "*** End of File" LF

%import common.LF
"""

_DESCRIPTION = (
    "Edit files with a patch. This is a FREEFORM tool: send the patch text itself, not JSON. "
    "Paths are relative to the workspace root."
)
_FUNCTION_DESCRIPTION = (
    "Edit files with a patch in the apply_patch format, given as the `input` string: "
    "'*** Begin Patch', then hunks ('*** Add File: path' with '+' lines, '*** Delete File: path', "
    "'*** Update File: path' with optional '*** Move to: path' and '@@' chunks of ' ', '-', '+' "
    "lines), then '*** End Patch'. Paths are relative to the workspace root."
)


class ApplyPatchTool(Tool):
    """``apply_patch`` in the freeform or the JSON-function variant."""

    name: ClassVar[str] = "apply_patch"
    mutating: ClassVar[bool] = True

    def __init__(self, variant: Literal["freeform", "function"] = "freeform") -> None:
        self.variant = variant

    def spec(self) -> dict[str, Any]:
        if self.variant == "function":
            properties = {"input": {"type": "string", "description": "The whole patch text."}}
            return function_spec(self.name, _FUNCTION_DESCRIPTION, properties, ["input"])
        return {
            "type": "custom",
            "name": self.name,
            "description": _DESCRIPTION,
            "format": {"type": "grammar", "syntax": "lark", "definition": GRAMMAR},
        }

    async def run(self, call: ToolCall, ctx: ToolContext) -> ToolResult:
        started = time.monotonic()
        text = _patch_text(call)
        if text is None:
            return _refused(
                ctx, 'apply_patch: expected {"input": "<patch text>"}', "the call carried no patch text"
            )
        try:
            # Matching a big patch takes a while; off the event loop, the host keeps answering
            # (a cancel included) meanwhile.
            result = await asyncio.to_thread(_compute, text, ctx.workspace.file_source())
        except PatchError as exc:
            output = _with_notes(f"apply_patch verification failed: {exc}", exc.notes)
            return _refused(ctx, output, str(exc))
        return await _propose(result, ctx, started)


def _refused(ctx: ToolContext, output: str, reason: str) -> ToolResult:
    """``output`` for the model; ``reason`` for the host, as a ``failed`` file-change item without
    changes (so that a refused patch is reported, not only a written one)."""
    item = FileChangeItem(id=ctx.new_item_id("patch"))
    ctx.emit(ItemStarted(turn_id=ctx.turn_id, item=item))
    done = item.model_copy(update={"status": "failed", "message": reason})
    ctx.emit(ItemCompleted(turn_id=ctx.turn_id, item=done))
    return ToolResult(output=output, success=False)


def _compute(text: str, source: FileSource) -> PatchResult:
    return compute_changes(parse_patch(text), source)


def _patch_text(call: ToolCall) -> str | None:
    if call.kind == "custom":
        return call.arguments
    try:
        arguments = json.loads(call.arguments)
    except json.JSONDecodeError:
        return None
    value = arguments.get("input") if isinstance(arguments, dict) else None
    return value if isinstance(value, str) else None


async def _propose(result: PatchResult, ctx: ToolContext, started: float) -> ToolResult:
    item_id = ctx.new_item_id("patch")
    entries = tuple(_entry(change) for change in result.changes)
    diff = "".join(render_change(change) for change in result.changes)
    item = FileChangeItem(id=item_id, changes=entries, diff=diff)
    ctx.emit(ItemStarted(turn_id=ctx.turn_id, item=item))
    ctx.emit(FileChangeProposed(turn_id=ctx.turn_id, item_id=item_id, changes=entries, diff=diff))
    declined = await _approval(ctx, item, result, diff)
    if declined is not None:
        return declined
    summary = ", ".join(line[2:] for line in result.summary)
    outcome, interrupted = await _apply_settled(ctx, result, summary)
    recorded = _record(ctx, item, result, outcome, started)
    if interrupted:
        raise ToolInterrupted(recorded)
    return recorded


_DIFF_SUMMARY_LINES = 12
INTERRUPTED_APPROVAL = (
    "apply_patch declined: the turn was interrupted while the change waited for the user's approval. "
    "No file was changed."
)


async def _approval(
    ctx: ToolContext, item: FileChangeItem, result: PatchResult, diff: str
) -> ToolResult | None:
    """Ask the user when the policy says so; ``None`` when the change may go ahead, else the
    declined output (the item completes ``declined``). Interrupting the turn while the question
    is open answers it as denied."""
    reasons = patch_reasons(result.changes, ctx.settings, (b.path for b in ctx.workspace.open_buffers()))
    refusal = patch_refusal(reasons, ctx.settings)
    if refusal is not None:
        return _declined(ctx, item, f"apply_patch refused: {refusal}. No file was changed.")
    if not reasons or ctx.changes_approved_for_turn:
        return None
    why = "; ".join(reason.text for reason in reasons)
    paths = tuple(dict.fromkeys(p for change in result.changes for p in _paths(change)))
    request = ApprovalRequest(
        kind="patch",
        title=f"Apply changes to {', '.join(paths)}?",
        reason=why,
        paths=paths,
        diff=_short_diff(diff),
        changes=result.changes,
    )
    try:
        decision = await ctx.approver.request(request)
    except asyncio.CancelledError:
        raise ToolInterrupted(_declined(ctx, item, INTERRUPTED_APPROVAL)) from None
    if decision == ApprovalDecision.DENY:
        return _declined(
            ctx, item, "apply_patch declined: the user did not approve this change. No file was changed."
        )
    if decision == ApprovalDecision.APPROVE_FOR_TURN:
        ctx.changes_approved_for_turn = True
    return None


def _declined(ctx: ToolContext, item: FileChangeItem, output: str) -> ToolResult:
    done = item.model_copy(update={"status": "declined", "message": output})
    ctx.emit(ItemCompleted(turn_id=ctx.turn_id, item=done))
    return ToolResult(output=output, success=False)


def _short_diff(diff: str) -> str:
    """The diff without its ``diff --git``/``---``/``+++`` headers, cut to a few lines."""
    lines = [line for line in diff.splitlines() if not line.startswith(("diff --git", "--- ", "+++ "))]
    if len(lines) > _DIFF_SUMMARY_LINES:
        lines = [*lines[:_DIFF_SUMMARY_LINES], f"… {len(lines) - _DIFF_SUMMARY_LINES} more lines"]
    return "\n".join(lines)


async def _apply_settled(ctx: ToolContext, result: PatchResult, summary: str) -> tuple[ApplyOutcome, bool]:
    """Apply ``result``; if the turn is interrupted meanwhile, learn what really happened first.

    The applier is cancelled, which stops it unless an edit is already on its way to the editor;
    then it waits for the answer and returns it (see :class:`ChangeApplier`). Returns the outcome
    and whether the turn was interrupted; raises ``CancelledError`` when nothing was applied.
    """
    applying = asyncio.ensure_future(ctx.applier.apply(result, turn_id=ctx.turn_id, summary=summary))
    try:
        return await asyncio.shield(applying), False
    except asyncio.CancelledError:
        applying.cancel()
        outcome = await applying  # CancelledError here: the applier stopped before sending anything
        return outcome, True


def _record(
    ctx: ToolContext, item: FileChangeItem, result: PatchResult, outcome: ApplyOutcome, started: float
) -> ToolResult:
    """Emit the item's final state and build the model's output for ``outcome``."""
    if outcome.held_for_review:
        return _held(ctx, item, result, outcome, started)
    if not outcome.applied:
        done = item.model_copy(update={"status": "failed", "message": outcome.message})
        ctx.emit(ItemCompleted(turn_id=ctx.turn_id, item=done))
        return ToolResult(output=_with_notes(_not_applied(outcome.message), result.notes), success=False)
    done = item.model_copy(update={"status": "applied", "message": outcome.message})
    ctx.emit(ItemCompleted(turn_id=ctx.turn_id, item=done))
    ctx.note_changed(path for change in result.changes for path in _paths(change))
    note = f"\n{outcome.message}" if outcome.message else ""
    wall = time.monotonic() - started
    output = f"Exit code: 0\nWall time: {wall:.1f} seconds\nOutput:\n{result.success_message()}{note}"
    return ToolResult(output=_with_notes(output, result.notes))


_SAYS_WHAT_CHANGED = re.compile(
    r"no file was changed|nothing was (changed|written|sent)|restor", re.IGNORECASE
)
"""A host's refusal that already says what became of the files."""


def _not_applied(message: str) -> str:
    """The model's output for a patch the host did not apply: why, then (once) that no file changed.

    An applier never leaves a patch half applied. When its message already says what became of
    the files ("…; no file was changed", "the files already written were restored"), that is not
    said again.
    """
    reason = message.strip().rstrip(".")
    if _SAYS_WHAT_CHANGED.search(reason):
        return f"apply_patch failed: {reason}. Read the files again and send a new patch."
    return f"apply_patch failed: {reason}. No file was changed; read the files again and send a new patch."


def _held(
    ctx: ToolContext, item: FileChangeItem, result: PatchResult, outcome: ApplyOutcome, started: float
) -> ToolResult:
    """A change held for review: nothing changed; the model is told it waits for the user."""
    done = item.model_copy(
        update={"status": "held", "message": outcome.message, "proposal_id": outcome.proposal_id}
    )
    ctx.emit(ItemCompleted(turn_id=ctx.turn_id, item=done))
    ctx.proposal_id = outcome.proposal_id or ctx.proposal_id
    wall = time.monotonic() - started
    listed = "\n".join(result.summary)
    output = f"Exit code: 0\nWall time: {wall:.1f} seconds\nOutput:\n{outcome.message}\n{listed}\n"
    return ToolResult(output=_with_notes(output, result.notes))


def _with_notes(output: str, notes: tuple[str, ...]) -> str:
    """``output`` followed by the repair notes, one a line (a final newline stays final)."""
    if not notes:
        return output
    if output.endswith("\n"):
        return output + "\n".join(notes) + "\n"
    return output + "\n" + "\n".join(notes)


def _entry(change: FileChange) -> FileChangeEntry:
    return FileChangeEntry(path=change.path, kind=change.kind.value, move_to=change.move_to)


def _paths(change: FileChange) -> tuple[str, ...]:
    return (change.path, change.move_to) if change.move_to else (change.path,)
