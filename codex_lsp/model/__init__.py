"""The model layer: the Responses API over WebSocket (HTTP SSE as fallback), with request-scoped turn state.

No LSP here (tests/test_layering.py enforces it). Inside, the dependencies point one way: ``client`` →
``session`` → ``connections`` → the two transports. Typical use::

    client = ModelClient.from_codex_home()
    session = client.new_turn(model="gpt-5.5")
    async for event in session.stream(Prompt(input=history, tools=tools)):
        ...

Every failure is a :class:`ModelError`; :class:`TransportError` is its network family (see
:mod:`codex_lsp.model.errors` for the policy each class carries).
"""

from __future__ import annotations

from codex_lsp.model.client import ModelClient
from codex_lsp.model.config import ModelSettings, ProviderConfig, load_settings
from codex_lsp.model.errors import ModelError, TransportError
from codex_lsp.model.notices import FallbackNotice, RetryNotice
from codex_lsp.model.request import Prompt
from codex_lsp.model.session import StreamEvent, TurnSession

__all__ = [
    "FallbackNotice",
    "ModelClient",
    "ModelError",
    "ModelSettings",
    "Prompt",
    "ProviderConfig",
    "RetryNotice",
    "StreamEvent",
    "TransportError",
    "TurnSession",
    "load_settings",
]
