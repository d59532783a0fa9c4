"""Approvals through the editor: ``session/request_permission`` with allow-once / allow-always / reject.

"Always" means for the rest of the session: the same command (the same argv) runs without asking
again. An answer the agent cannot use — the client's ``cancelled`` outcome (it sends that for every
pending request when the user cancels the prompt), an unknown option, a failed request — is a
denial. Cancelling the turn cancels the wait itself, so a cancelled prompt never hangs on a question.
"""

from __future__ import annotations

import logging
import shlex

from acp import RequestError, text_block, tool_content
from acp.interfaces import Client
from acp.schema import AllowedOutcome, PermissionOption, ToolCallUpdate

from codex_lsp.acp.report import CURRENT_CALL
from codex_lsp.acp.updates import UpdateStream
from codex_lsp.agent import ApprovalDecision, ApprovalRequest

__all__ = ["ALLOW_ALWAYS", "ALLOW_ONCE", "REJECT", "PermissionApprover"]

log = logging.getLogger(__name__)

ALLOW_ONCE = "allow-once"
ALLOW_ALWAYS = "allow-always"
REJECT = "reject"


class PermissionApprover:
    """An :class:`~codex_lsp.agent.interfaces.Approver` that asks the ACP client."""

    def __init__(self, client: Client, stream: UpdateStream) -> None:
        self.client = client
        self.stream = stream
        self.always: set[tuple[str, ...]] = set()
        """Commands the user allowed for the rest of the session."""
        self._asked = 0

    async def request(self, request: ApprovalRequest) -> ApprovalDecision:
        if request.command and request.command in self.always:
            return ApprovalDecision.APPROVE_FOR_TURN
        await self.stream.flush()  # the client must know the card the question refers to
        try:
            response = await self.client.request_permission(
                session_id=self.stream.session_id,
                tool_call=self._tool_call(request),
                options=_options(request),
            )
        except (RequestError, ConnectionError) as exc:
            log.warning("permission request failed (%s): denied", exc)
            return ApprovalDecision.DENY
        outcome = response.outcome
        if not isinstance(outcome, AllowedOutcome):
            return ApprovalDecision.DENY
        if outcome.option_id == ALLOW_ALWAYS:
            self.always.add(request.command)
            return ApprovalDecision.APPROVE_FOR_TURN
        return ApprovalDecision.APPROVE_ONCE if outcome.option_id == ALLOW_ONCE else ApprovalDecision.DENY

    def _tool_call(self, request: ApprovalRequest) -> ToolCallUpdate:
        call = CURRENT_CALL.get()
        if call is None:  # not asked from inside a reported tool: give the question its own id
            self._asked += 1
        return ToolCallUpdate(
            tool_call_id=call.id if call is not None else f"approval-{self._asked}",
            title=request.title,
            kind="execute" if request.kind == "command" else "other",
            status="pending",
            raw_input={"command": list(request.command), "cwd": request.cwd} if request.command else None,
            content=[tool_content(text_block(request.reason))] if request.reason else None,
        )


def _options(request: ApprovalRequest) -> list[PermissionOption]:
    what = f"`{shlex.join(request.command)}`" if request.command else "this"
    return [
        PermissionOption(option_id=ALLOW_ONCE, name="Allow once", kind="allow_once"),
        PermissionOption(
            option_id=ALLOW_ALWAYS, name=f"Always allow {what} in this session", kind="allow_always"
        ),
        PermissionOption(option_id=REJECT, name="Reject", kind="reject_once"),
    ]
