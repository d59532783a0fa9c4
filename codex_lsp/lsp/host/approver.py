"""The agent's ``Approver`` on LSP: the user approves through ``window/showMessageRequest``.

The prompt names the command and where it runs — or the files a change touches, why it asks, and
a short diff — with three answers: Approve, Approve for this turn, Deny. Anything but an explicit
approval denies — no answer (the prompt dismissed), an error, a client without
``window/showMessageRequest`` — and the tool tells the model it was declined. Which requests are
asked at all is the agent's approval policy (``agent/approval.py``). Interrupting the turn
answers the question as denied and withdraws it from the editor (``$/cancelRequest``).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import TYPE_CHECKING, Any

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
        if not state.caps.show_message_request:
            return ApprovalDecision.DENY
        params = types.ShowMessageRequestParams(
            type=types.MessageType.Warning,
            message=state.scrub(_message(request)),
            actions=[types.MessageActionItem(title) for title in (APPROVE, APPROVE_FOR_TURN, DENY)],
        )
        try:
            answer = await self._ask(params)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # no handler, an error: no approval
            log.info("approval request failed: %s", exc)
            return ApprovalDecision.DENY
        title = getattr(answer, "title", None)
        return (
            _DECISIONS.get(title, ApprovalDecision.DENY) if isinstance(title, str) else ApprovalDecision.DENY
        )

    async def _ask(self, params: types.ShowMessageRequestParams) -> Any:
        """Send the question; if the turn is interrupted meanwhile, withdraw it and re-raise."""
        protocol = self.server.protocol
        msg_id = f"codex-approval-{uuid.uuid4()}"
        try:
            return await protocol.send_request_async(types.WINDOW_SHOW_MESSAGE_REQUEST, params, msg_id=msg_id)
        except asyncio.CancelledError:
            # pygls' private table of requests awaiting an answer: a late answer is then dropped
            # instead of failing on the cancelled future.
            protocol._request_futures.pop(msg_id, None)
            protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))
            raise


def _message(request: ApprovalRequest) -> str:
    if request.kind == "patch":
        why = f" ({request.reason})" if request.reason else ""
        diff = f"\n{request.diff}" if request.diff else ""
        return f"Codex wants to change {', '.join(request.paths)}{why}.{diff}"
    where = f" in {request.cwd}" if request.cwd else ""
    return f"Codex wants to run: {' '.join(request.command)}{where}"
