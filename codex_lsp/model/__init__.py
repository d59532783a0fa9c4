"""The model layer: the Responses API over WebSocket (HTTP SSE as fallback), with request-scoped turn state.

No LSP here (tests/test_layering.py enforces it). Inside, the dependencies point one way: ``client`` →
``session`` → ``connections`` → the two transports. Typical use::

    client = ModelClient.from_codex_home()
    session = client.new_turn(model="gpt-5.5")
    async for event in session.stream(Prompt(input=history, tools=tools)):
        ...

Every failure is a :class:`ModelError`; :class:`TransportError` is its network family (see
:mod:`codex_lsp.model.errors` for the policy each class carries).

This module names what the other layers may use (``__all__``): the client and its settings, the
events a session streams, the error tree. They import nothing else of the package
(tests/test_surfaces.py enforces it). Each name loads its module on first use (PEP 562), so a host
that only reads the configuration or catches a ``ConfigError`` does not load the transports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from codex_lsp._exports import lazy_exports

if TYPE_CHECKING:
    from codex_lsp.model.catalog import ModelInfo, default_model, find_model, listed_models, model_info
    from codex_lsp.model.client import ModelClient
    from codex_lsp.model.config import (
        BUILTIN_PROVIDERS,
        ConfigRequest,
        ModelSettings,
        PromptSettings,
        ProviderConfig,
        codex_home,
        load_config,
        load_permissions,
        load_settings,
        read_auth_key,
        read_config,
    )
    from codex_lsp.model.errors import (
        AuthError,
        ConfigError,
        ConnectFailed,
        ConnectionLimitReached,
        FatalModelError,
        IdleTimeout,
        ModelError,
        ProtocolError,
        RateLimited,
        RetriesExhausted,
        ServerError,
        ServerOverloaded,
        StreamClosed,
        TransportError,
        UpgradeRequired,
    )
    from codex_lsp.model.events import (
        OutputItem,
        OutputItemAdded,
        OutputItemDone,
        OutputTextDelta,
        ReasoningSummaryTextDelta,
        ResponseCompleted,
        Usage,
    )
    from codex_lsp.model.notices import FallbackNotice, RetryNotice
    from codex_lsp.model.permissions import (
        ApprovalPolicy,
        Granular,
        GranularApproval,
        Permissions,
        SandboxMode,
        SandboxWorkspaceWrite,
        ShellEnvironmentPolicy,
    )
    from codex_lsp.model.request import Prompt
    from codex_lsp.model.retry import RetryPolicy
    from codex_lsp.model.session import StreamEvent, TurnSession
    from codex_lsp.model.ws_transport import websocket_url

__all__ = [
    "BUILTIN_PROVIDERS",
    "ApprovalPolicy",
    "AuthError",
    "ConfigError",
    "ConfigRequest",
    "ConnectFailed",
    "ConnectionLimitReached",
    "FallbackNotice",
    "FatalModelError",
    "Granular",
    "GranularApproval",
    "IdleTimeout",
    "ModelClient",
    "ModelError",
    "ModelInfo",
    "ModelSettings",
    "OutputItem",
    "OutputItemAdded",
    "OutputItemDone",
    "OutputTextDelta",
    "Permissions",
    "Prompt",
    "PromptSettings",
    "ProtocolError",
    "ProviderConfig",
    "RateLimited",
    "ReasoningSummaryTextDelta",
    "ResponseCompleted",
    "RetriesExhausted",
    "RetryNotice",
    "RetryPolicy",
    "SandboxMode",
    "SandboxWorkspaceWrite",
    "ServerError",
    "ServerOverloaded",
    "ShellEnvironmentPolicy",
    "StreamClosed",
    "StreamEvent",
    "TransportError",
    "TurnSession",
    "UpgradeRequired",
    "Usage",
    "codex_home",
    "default_model",
    "find_model",
    "listed_models",
    "load_config",
    "load_permissions",
    "load_settings",
    "model_info",
    "read_auth_key",
    "read_config",
    "websocket_url",
]

_LAZY: dict[str, tuple[str, ...]] = {
    "catalog": ("ModelInfo", "default_model", "find_model", "listed_models", "model_info"),
    "client": ("ModelClient",),
    "config": (
        "BUILTIN_PROVIDERS",
        "ConfigRequest",
        "ModelSettings",
        "PromptSettings",
        "ProviderConfig",
        "codex_home",
        "load_config",
        "load_permissions",
        "load_settings",
        "read_auth_key",
        "read_config",
    ),
    "errors": (
        "AuthError",
        "ConfigError",
        "ConnectFailed",
        "ConnectionLimitReached",
        "FatalModelError",
        "IdleTimeout",
        "ModelError",
        "ProtocolError",
        "RateLimited",
        "RetriesExhausted",
        "ServerError",
        "ServerOverloaded",
        "StreamClosed",
        "TransportError",
        "UpgradeRequired",
    ),
    "events": (
        "OutputItem",
        "OutputItemAdded",
        "OutputItemDone",
        "OutputTextDelta",
        "ReasoningSummaryTextDelta",
        "ResponseCompleted",
        "Usage",
    ),
    "notices": ("FallbackNotice", "RetryNotice"),
    "permissions": (
        "ApprovalPolicy",
        "Granular",
        "GranularApproval",
        "Permissions",
        "SandboxMode",
        "SandboxWorkspaceWrite",
        "ShellEnvironmentPolicy",
    ),
    "request": ("Prompt",),
    "retry": ("RetryPolicy",),
    "session": ("StreamEvent", "TurnSession"),
    "ws_transport": ("websocket_url",),
}

__getattr__ = lazy_exports(__name__, _LAZY)
