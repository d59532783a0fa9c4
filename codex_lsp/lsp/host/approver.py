"""The agent's ``Approver`` on LSP: the user approves through ``window/showMessageRequest``.

The prompt names the command and where it runs — or the files a change touches, why it asks, and
a short diff — with three answers: Approve, Approve for this turn, Deny. Anything but an explicit
approval denies — no answer (the prompt dismissed), an error, a client without
``window/showMessageRequest`` — and the tool tells the model it was declined. Which requests are
asked at all is the agent's approval policy (``agent/approval.py``). Interrupting the turn
answers the question as denied and withdraws it from the editor (``$/cancelRequest``).

:func:`ask` is how the server puts any question to the user (also a folder outside the open ones, a
credential for an editor-supplied URL: :mod:`codex_lsp.lsp.host.consent`).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from codex_lsp.agent import ApprovalDecision, ApprovalRequest

if TYPE_CHECKING:
    from codex_lsp.lsp.state import CodexServer

__all__ = ["APPROVE", "APPROVE_FOR_TURN", "DENY", "LspApprover", "ask"]

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
        title = await ask(self.server, _message(request), (APPROVE, APPROVE_FOR_TURN, DENY))
        return _DECISIONS.get(title, ApprovalDecision.DENY) if title is not None else ApprovalDecision.DENY


async def ask(
    server: CodexServer,
    message: str,
    actions: Sequence[str],
    kind: types.MessageType = types.MessageType.Warning,
) -> str | None:
    """Put a question to the user through ``window/showMessageRequest``: the title of the button chosen,
    or ``None`` — a client without ``window/showMessageRequest``, the prompt dismissed, an error, an
    answer that is none of ``actions``. The caller decides what ``None`` means (always the safe choice).
    Cancelling the caller withdraws the question from the editor and re-raises."""
    state = server.state
    if not state.caps.show_message_request:
        return None
    params = types.ShowMessageRequestParams(
        type=kind,
        message=state.scrub(message),
        actions=[types.MessageActionItem(title) for title in actions],
    )
    try:
        answer = await _send(server, params)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # no handler, an error: no answer
        log.info("a question to the user failed: %s", exc)
        return None
    title = getattr(answer, "title", None)
    return title if isinstance(title, str) and title in actions else None


async def _send(server: CodexServer, params: types.ShowMessageRequestParams) -> Any:
    """Send the question; if the caller is cancelled meanwhile, withdraw it and re-raise."""
    protocol = server.protocol
    msg_id = f"codex-question-{uuid.uuid4()}"
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
