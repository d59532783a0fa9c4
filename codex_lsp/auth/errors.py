"""The sign-in layer's exception tree; every message is written for the user and quotes no secret.

``AuthProblem``            base: something about the user's credentials stops a request or a login.
    ``AuthFileError``      ``auth.json`` cannot be read, is not JSON, or holds something we cannot use;
                           ``path`` names it. Nothing is rewritten or deleted because of it.
    ``NotSignedIn``        no credentials for a provider that needs them (or a key's variable is unset);
                           the message says how to sign in.
    ``RefreshFailed``      the token endpoint refused or could not be reached; ``permanent`` says whether
                           trying again with the same refresh token could ever succeed (a permanent
                           failure is remembered until ``auth.json`` changes, so it is never retried in a
                           loop).
    ``LoginError``         a login flow failed (refused, timed out, a state mismatch).
        ``LoginCancelled`` the user (or the editor) cancelled it.

The model layer translates these into its own ``AuthError``/``ConfigError`` at its boundary, so the
retry loop's policy stays written in one place.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "AuthFileError",
    "AuthProblem",
    "LoginCancelled",
    "LoginError",
    "NotSignedIn",
    "RefreshFailed",
]


class AuthProblem(Exception):
    """Base of the sign-in layer's failures; ``message`` is what the user reads."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class AuthFileError(AuthProblem):
    """``auth.json`` is unreadable or unusable; the file is left as it is."""

    def __init__(self, message: str, *, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path


class NotSignedIn(AuthProblem):
    """No credentials where the provider needs them; the message says how to sign in."""


class RefreshFailed(AuthProblem):
    """The access token could not be refreshed; ``permanent`` when the refresh token itself is dead."""

    def __init__(self, message: str, *, permanent: bool, code: str | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.code = code


class LoginError(AuthProblem):
    """A login flow failed; nothing was written."""


class LoginCancelled(LoginError):
    """The login was cancelled before it completed; nothing was written."""
