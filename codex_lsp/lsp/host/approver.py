"""The agent's ``Approver`` on LSP: the user approves a shell command through ``window/showMessageRequest``.

The prompt names the command and where it runs, with three answers: Approve, Approve for this turn,
Deny. Anything but an explicit approval denies — no answer (the prompt dismissed), an error, a
client without ``window/showMessageRequest``, or the ``deny`` approval policy — and the shell tool
tells the model the command was declined. Interrupting the turn abandons the question.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from lsprotocol import types

from codex_lsp.agent import ApprovalDecision, ApprovalRequest

if TYPE_CHECKING:
    from codex_lsp.lsp.state import CodexServer

__all__ = ["APPROVE", "APPROVE_FOR_TURN", "DENY", "LspApprover"]

log = logging.getLogger(__name__)

APPROVE = "Approve"
APPROVE_FOR_TURN = "Approve for this turn"
DENY = "Deny"
_DECISIONS = {APPROVE: ApprovalDecision.APPROVE_ONCE, APPROVE_FOR_TURN: ApprovalDecision.APPROVE_FOR_TURN}


class LspApprover:
    """Asks the editor's user."""

    def __init__(self, server: CodexServer) -> None:
        self.server = server

    async def request(self, request: ApprovalRequest) -> ApprovalDecision:
        state = self.server.state
        if state.settings.approval_policy == "deny" or not state.caps.show_message_request:
            return ApprovalDecision.DENY
        where = f" in {request.cwd}" if request.cwd else ""
        params = types.ShowMessageRequestParams(
            type=types.MessageType.Warning,
            message=state.scrub(f"Codex wants to run: {' '.join(request.command)}{where}"),
            actions=[types.MessageActionItem(title) for title in (APPROVE, APPROVE_FOR_TURN, DENY)],
        )
        try:
            answer = await self.server.protocol.send_request_async(types.WINDOW_SHOW_MESSAGE_REQUEST, params)
        except Exception as exc:  # no handler, an error: no approval
            log.info("approval request failed: %s", exc)
            return ApprovalDecision.DENY
        title = getattr(answer, "title", None)
        return (
            _DECISIONS.get(title, ApprovalDecision.DENY) if isinstance(title, str) else ApprovalDecision.DENY
        )
