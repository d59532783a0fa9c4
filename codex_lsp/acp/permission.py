"""Approvals through the editor: ``session/request_permission`` with allow-once / allow-always / reject.

The agent decides *whether* to ask (its approval policy: commands that are not allow-listed, and in
review mode every file change); this approver only asks the client and maps the answer.

- A command's question shows the command; "always" means for the rest of the session: the same
  command (the same argv) runs without asking again.
- An edit's question is its card (kind ``edit``) with one ``diff`` per file — the old and the new
  text as the patch engine computed them, nothing written yet — and the files as locations. The
  diffs stay on the card whatever the answer. "Always" for edits switches the session to auto mode
  (the editor is told with ``current_mode_update``), so the mode the editor shows is the truth:
  edits stop asking until the user picks review mode again.

An answer the agent cannot use — the client's ``cancelled`` outcome (it sends that for every
pending request when the user cancels the prompt), an unknown option, a failed request — is a
denial. Cancelling the turn cancels the wait itself, so a cancelled prompt never hangs on a question.
"""

from __future__ import annotations

import logging
import shlex
from collections.abc import Callable

from acp import RequestError, text_block, tool_content
from acp.interfaces import Client
from acp.schema import AllowedOutcome, PermissionOption, ToolCallUpdate

from codex_lsp.acp.report import CURRENT_CALL, Reporter
from codex_lsp.acp.updates import masked
from codex_lsp.agent import ApprovalDecision, ApprovalRequest

__all__ = ["ALLOW_ALWAYS", "ALLOW_ONCE", "REJECT", "PermissionApprover"]

log = logging.getLogger(__name__)

ALLOW_ONCE = "allow-once"
ALLOW_ALWAYS = "allow-always"
REJECT = "reject"


class PermissionApprover:
    """An :class:`~codex_lsp.agent.interfaces.Approver` that asks the ACP client.

    ``allow_all_edits`` is called when the user answers an edit's question with "always": the
    session stops asking for edits (it switches to auto mode).
    """

    def __init__(self, client: Client, reporter: Reporter, allow_all_edits: Callable[[], None]) -> None:
        self.client = client
        self.reporter = reporter
        self.stream = reporter.stream
        self.allow_all_edits = allow_all_edits
        self.always: set[tuple[str, ...]] = set()
        """Commands the user allowed for the rest of the session."""
        self._asked = 0

    async def request(self, request: ApprovalRequest) -> ApprovalDecision:
        if request.command and request.command in self.always:
            return ApprovalDecision.APPROVE_FOR_TURN
        edit = request.kind == "patch"
        call = CURRENT_CALL.get()
        if edit and call is not None:
            self.reporter.show_diffs(call, request.changes)
        await self.stream.flush()  # the client must know the card the question refers to
        scrub = self.stream.masking()
        try:
            response = await self.client.request_permission(
                session_id=self.stream.session_id,
                tool_call=masked(self._tool_call(request), scrub),
                options=[masked(option, scrub) for option in _options(request)],
            )
        except (RequestError, ConnectionError) as exc:
            log.warning("permission request failed (%s): denied", exc)
            return ApprovalDecision.DENY
        outcome = response.outcome
        if not isinstance(outcome, AllowedOutcome):
            return ApprovalDecision.DENY
        if outcome.option_id == ALLOW_ALWAYS and edit:
            # Not "for the turn": the session's mode says from now on whether edits ask, and a
            # switch back to review mode must ask again from the next edit, in this turn too.
            self.allow_all_edits()
            return ApprovalDecision.APPROVE_ONCE
        if outcome.option_id == ALLOW_ALWAYS:
            self.always.add(request.command)
            return ApprovalDecision.APPROVE_FOR_TURN
        return ApprovalDecision.APPROVE_ONCE if outcome.option_id == ALLOW_ONCE else ApprovalDecision.DENY

    def _tool_call(self, request: ApprovalRequest) -> ToolCallUpdate:
        call = CURRENT_CALL.get()
        if call is None:  # not asked from inside a reported tool: give the question its own id
            self._asked += 1
        tool_call_id = call.id if call is not None else f"approval-{self._asked}"
        if request.kind == "patch":
            return ToolCallUpdate(
                tool_call_id=tool_call_id,
                title=request.title,
                kind="edit",
                status="pending",
                content=list(self.reporter.diffs(request.changes)) or None,
                locations=self.reporter.edit_locations(request.changes) or None,
            )
        return ToolCallUpdate(
            tool_call_id=tool_call_id,
            title=request.title,
            kind="execute" if request.kind == "command" else "other",
            status="pending",
            raw_input={"command": list(request.command), "cwd": request.cwd} if request.command else None,
            content=[tool_content(text_block(request.reason))] if request.reason else None,
        )


def _options(request: ApprovalRequest) -> list[PermissionOption]:
    if request.kind == "patch":
        always = "Allow all edits in this session (switches to Auto)"
    else:
        what = f"`{shlex.join(request.command)}`" if request.command else "this"
        always = f"Always allow {what} in this session"
    return [
        PermissionOption(option_id=ALLOW_ONCE, name="Allow once", kind="allow_once"),
        PermissionOption(option_id=ALLOW_ALWAYS, name=always, kind="allow_always"),
        PermissionOption(option_id=REJECT, name="Reject", kind="reject_once"),
    ]
