"""The user's OpenAI sign-in, as Codex keeps it: ``auth.json``, ChatGPT tokens and their refresh, logins.

A core layer below the model: the model layer asks a :class:`Credential` for each request's headers and
for recovery after a 401; the hosts (``cli``, the language server, ACP) use the login flows. Nothing here
knows about providers, LSP or the agent. The error tree is in :mod:`codex_lsp.auth.errors`.

This module names what the other layers may use (``__all__``); each name loads its module on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from codex_lsp._exports import lazy_exports

if TYPE_CHECKING:
    from codex_lsp.auth.credentials import (
        CODEX_API_KEY_ENV,
        AccountInfo,
        Credential,
        ForcedLogin,
        MissingCredential,
        NoCredential,
        OpenAIAccount,
        StaticKey,
        not_signed_in_message,
        refresh_due,
    )
    from codex_lsp.auth.errors import (
        AuthFileError,
        AuthProblem,
        LoginCancelled,
        LoginError,
        NotSignedIn,
        RefreshFailed,
    )
    from codex_lsp.auth.jwt import IdentityClaims, claims_of, expiry_of, identity_of
    from codex_lsp.auth.login import (
        BROWSER_PORTS,
        BrowserLogin,
        DeviceCode,
        DeviceLogin,
        login_status,
        logout,
        mask_key,
        save_api_key,
    )
    from codex_lsp.auth.oauth import CLIENT_ID, DEFAULT_ISSUER
    from codex_lsp.auth.store import AUTH_FILE, AuthFile, Tokens, read_auth_file

__all__ = [
    "AUTH_FILE",
    "BROWSER_PORTS",
    "CLIENT_ID",
    "CODEX_API_KEY_ENV",
    "DEFAULT_ISSUER",
    "AccountInfo",
    "AuthFile",
    "AuthFileError",
    "AuthProblem",
    "BrowserLogin",
    "Credential",
    "DeviceCode",
    "DeviceLogin",
    "ForcedLogin",
    "IdentityClaims",
    "LoginCancelled",
    "LoginError",
    "MissingCredential",
    "NoCredential",
    "NotSignedIn",
    "OpenAIAccount",
    "RefreshFailed",
    "StaticKey",
    "Tokens",
    "claims_of",
    "expiry_of",
    "identity_of",
    "login_status",
    "logout",
    "mask_key",
    "not_signed_in_message",
    "read_auth_file",
    "refresh_due",
    "save_api_key",
]

_LAZY: dict[str, tuple[str, ...]] = {
    "credentials": (
        "CODEX_API_KEY_ENV",
        "AccountInfo",
        "Credential",
        "ForcedLogin",
        "MissingCredential",
        "NoCredential",
        "OpenAIAccount",
        "StaticKey",
        "not_signed_in_message",
        "refresh_due",
    ),
    "errors": (
        "AuthFileError",
        "AuthProblem",
        "LoginCancelled",
        "LoginError",
        "NotSignedIn",
        "RefreshFailed",
    ),
    "jwt": ("IdentityClaims", "claims_of", "expiry_of", "identity_of"),
    "login": (
        "BROWSER_PORTS",
        "BrowserLogin",
        "DeviceCode",
        "DeviceLogin",
        "login_status",
        "logout",
        "mask_key",
        "save_api_key",
    ),
    "oauth": ("CLIENT_ID", "DEFAULT_ISSUER"),
    "store": ("AUTH_FILE", "AuthFile", "Tokens", "read_auth_file"),
}

__getattr__ = lazy_exports(__name__, _LAZY)
