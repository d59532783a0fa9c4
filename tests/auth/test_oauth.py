"""The token endpoint client: where refresh and revoke go, and how a refusal is classified and worded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from codex_lsp.auth import OpenAIAccount
from codex_lsp.auth.oauth import DEFAULT_ISSUER, OAuthClient, refresh_error
from codex_lsp.testing import FakeIssuer, chatgpt_auth
from tests.auth.conftest import write_raw

OVERRIDE = "http://override.test/custom/token"
PROVENANCE = "http://provenance.test/"
ENV_ISSUER = "http://env-issuer.test/"


@pytest.mark.parametrize(
    ("env", "token_issuer", "url"),
    [
        (
            {"CODEX_REFRESH_TOKEN_URL_OVERRIDE": OVERRIDE, "CODEX_LSP_AUTH_ISSUER": ENV_ISSUER},
            PROVENANCE,
            OVERRIDE,
        ),
        ({"CODEX_LSP_AUTH_ISSUER": ENV_ISSUER}, PROVENANCE, "http://provenance.test/oauth/token"),
        ({"CODEX_LSP_AUTH_ISSUER": ENV_ISSUER}, None, "http://env-issuer.test/oauth/token"),
        ({}, PROVENANCE, "http://provenance.test/oauth/token"),
        ({}, None, f"{DEFAULT_ISSUER}/oauth/token"),
        ({"CODEX_REFRESH_TOKEN_URL_OVERRIDE": ""}, None, f"{DEFAULT_ISSUER}/oauth/token"),
    ],
    ids=["override", "provenance", "env-issuer", "provenance-only", "default", "empty-override"],
)
def test_refresh_url_precedence(env: dict[str, str], token_issuer: str | None, url: str) -> None:
    assert OAuthClient(env).refresh_url(token_issuer) == url


@pytest.mark.parametrize(
    ("env", "url"),
    [
        (
            {"CODEX_REVOKE_TOKEN_URL_OVERRIDE": "http://r.test/revoke", "CODEX_LSP_AUTH_ISSUER": ENV_ISSUER},
            "http://r.test/revoke",
        ),
        ({"CODEX_LSP_AUTH_ISSUER": ENV_ISSUER}, "http://env-issuer.test/oauth/revoke"),
        ({}, "https://auth.openai.com/oauth/revoke"),
    ],
)
def test_revoke_url(env: dict[str, str], url: str) -> None:
    assert OAuthClient(env).revoke_url() == url


def test_the_defaults_are_codex_own_client() -> None:
    client = OAuthClient({})
    assert (client.issuer, client.client_id) == ("https://auth.openai.com", "app_EMoamEEZ73f0CkXaXp7hrann")
    other = OAuthClient({"CODEX_LSP_AUTH_ISSUER": ENV_ISSUER, "CODEX_LSP_AUTH_CLIENT_ID": "app_test"})
    assert (other.issuer, other.client_id) == ("http://env-issuer.test", "app_test")


EXPIRED = (
    "Your access token could not be refreshed because your refresh token has expired. "
    "Please log out and sign in again."
)
REUSED = (
    "Your access token could not be refreshed because your refresh token was already used. "
    "Please log out and sign in again."
)
REVOKED = (
    "Your access token could not be refreshed because your refresh token was revoked. "
    "Please log out and sign in again."
)
OTHER_4XX = "Your access token could not be refreshed. Please log out and sign in again."


@pytest.mark.parametrize(
    ("status", "body", "code", "text", "permanent"),
    [
        (401, {"error": {"code": "refresh_token_expired"}}, "refresh_token_expired", EXPIRED, True),
        (400, {"error": "refresh_token_reused"}, "refresh_token_reused", REUSED, True),
        (400, {"code": "refresh_token_invalidated"}, "refresh_token_invalidated", REVOKED, True),
        (
            401,
            {"error": {"code": "refresh_token_expired"}, "code": "other"},
            "refresh_token_expired",
            EXPIRED,
            True,
        ),
        (
            400,
            {"error": {"message": "x"}, "code": "refresh_token_reused"},
            "refresh_token_reused",
            REUSED,
            True,
        ),
        (400, {"error": "invalid_grant"}, "invalid_grant", OTHER_4XX, True),
        (499, None, None, OTHER_4XX, True),
        (503, {"error": {"message": "overloaded"}}, None, "Failed to refresh token: 503: overloaded", False),
        (500, {"error_description": "db down"}, None, "Failed to refresh token: 500: db down", False),
        (502, {"error": "bad_gateway"}, "bad_gateway", "Failed to refresh token: 502: bad_gateway", False),
        (500, "not an object", None, "Failed to refresh token: 500: no message", False),
    ],
    ids=[
        "error.code",
        "error-string",
        "top-level-code",
        "error.code-first",
        "top-level-when-error-is-object-without-code",
        "other-4xx",
        "4xx-no-body",
        "5xx-message",
        "5xx-description",
        "5xx-code",
        "5xx-not-json-object",
    ],
)
def test_refresh_errors_are_classified_as_codex_does(
    status: int, body: Any, code: str | None, text: str, permanent: bool
) -> None:
    failure = refresh_error(status, body)
    assert (failure.message, failure.permanent, failure.code) == (text, permanent, code)


async def test_a_refresh_goes_to_the_provenance_issuer_without_an_override(
    tmp_path: Path, issuer: FakeIssuer
) -> None:
    """No ``CODEX_REFRESH_TOKEN_URL_OVERRIDE``, ``CODEX_LSP_AUTH_ISSUER`` elsewhere (a dead port): the refresh
    goes to ``tokens.oauth_provenance.issuer`` (Codex 0.169)."""
    home = tmp_path / "home"
    write_raw(home, chatgpt_auth(issuer=issuer.url))
    acct = OpenAIAccount(home, {"CODEX_LSP_AUTH_ISSUER": "http://127.0.0.1:9"})
    await acct.recover(1)
    assert len(issuer.refreshes()) == 1


async def test_the_refresh_request_is_codex_shaped(tmp_path: Path, issuer: FakeIssuer) -> None:
    reply = await OAuthClient(issuer.env()).refresh("rt-x", reason="unauthorized_recovery", token_issuer=None)
    assert reply.access_token == issuer.issued[-1]["access_token"]
    (request,) = issuer.on("/oauth/token")
    assert request.method == "POST"
    assert request.json() == {
        "client_id": "app_EMoamEEZ73f0CkXaXp7hrann",
        "grant_type": "refresh_token",
        "refresh_reason": "unauthorized_recovery",
        "refresh_token": "rt-x",
    }
    assert request.headers["content-type"] == "application/json"
    assert request.headers["accept"] == "*/*"
    assert request.headers["originator"]
    assert request.headers["user-agent"].startswith("codex-lsp/")
    assert "authorization" not in request.headers
