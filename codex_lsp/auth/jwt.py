"""Reading the claims of the JWTs in ``auth.json``, without checking signatures (as Codex reads them).

The id token says who is signed in (email, plan, ChatGPT account, FedRAMP); the access token's ``exp``
says when to refresh. Neither is trusted for anything but display and scheduling: the server checks the
token itself. A token that is not a JWT (an opaque access token) simply has no claims.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

__all__ = ["AUTH_CLAIM", "IdentityClaims", "claims_of", "expiry_of", "identity_of"]

AUTH_CLAIM = "https://api.openai.com/auth"
PROFILE_CLAIM = "https://api.openai.com/profile"


def claims_of(token: str | None) -> dict[str, Any]:
    """The payload of ``token`` as a dict; empty when it is not a readable JWT."""
    if not token or token.count(".") != 2:
        return {}
    payload = token.split(".")[1]
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def expiry_of(token: str | None) -> float | None:
    """The ``exp`` claim (seconds since the epoch), or ``None`` for an opaque token or one without it."""
    exp = claims_of(token).get("exp")
    if isinstance(exp, bool) or not isinstance(exp, int | float):
        return None
    return float(exp)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True)
class IdentityClaims:
    """Who the id token says is signed in; no secret."""

    email: str | None = None
    plan: str | None = None
    """``chatgpt_plan_type``: free, plus, pro, team, business, enterprise, edu…"""
    account_id: str | None = None
    """``chatgpt_account_id``: the ChatGPT workspace. Requests use ``tokens.account_id``, not this."""
    user_id: str | None = None
    fedramp: bool = False
    """``chatgpt_account_is_fedramp``: requests then carry ``x-openai-fedramp: true``."""


def identity_of(id_token: str | None) -> IdentityClaims:
    """The identity claims of ``id_token`` (empty when it is not a readable JWT)."""
    claims = claims_of(id_token)
    auth = claims.get(AUTH_CLAIM)
    auth = auth if isinstance(auth, dict) else {}
    profile = claims.get(PROFILE_CLAIM)
    profile = profile if isinstance(profile, dict) else {}
    return IdentityClaims(
        email=_text(claims.get("email")) or _text(profile.get("email")),
        plan=_text(auth.get("chatgpt_plan_type")),
        account_id=_text(auth.get("chatgpt_account_id")),
        user_id=_text(auth.get("chatgpt_user_id")) or _text(auth.get("user_id")),
        fedramp=auth.get("chatgpt_account_is_fedramp") is True,
    )
