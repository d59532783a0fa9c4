"""Every configured secret stays out of logs and errors, on both transports, with DEBUG logging on.

Secrets travel in more than the Authorization header: an ``env_http_headers`` entry (``api-key``, as Azure
wants it), key-like ``http_headers`` (``x-api-key``, ``cookie``), and a key-like query parameter. The
server here echoes all of them back in its error messages, the way a proxy quoting the request would.
"""

from __future__ import annotations

import logging

import pytest

from codex_lsp.model import ModelClient
from codex_lsp.model.errors import ModelError
from codex_lsp.model.notices import FallbackNotice, RetryNotice
from codex_lsp.model.redact import Redactor, is_secret_header, looks_like_key
from codex_lsp.testing import FakeResponsesServer
from tests.model.helpers import API_KEY, FAST, run, say, script, texts, user

ENV_SECRET = "azure-0123456789-env-secret"
STATIC_SECRET = "static-x-api-key-secret"
COOKIE_SECRET = "session=cookie-secret-value"
QUERY_SECRET = "query-key-secret-42"
TENANT = "tenant-7f3e9a"
"""An ``env_http_headers`` value under a name that says nothing about secrets: masked all the same."""
SECRETS = (API_KEY, ENV_SECRET, STATIC_SECRET, COOKIE_SECRET, QUERY_SECRET, TENANT)
ECHO = "echoing the request: " + " | ".join(SECRETS)


def client_for(fake: FakeResponsesServer, websockets: bool, *, prewarm: bool = True) -> ModelClient:
    settings = fake.model_settings(
        websockets=websockets,
        api_key=API_KEY,
        env_http_headers={"api-key": "AZURE_KEY", "x-tenant": "TENANT"},
        http_headers={"x-api-key": STATIC_SECRET, "cookie": COOKIE_SECRET, "x-plain": "visible-value"},
        query_params={"key": QUERY_SECRET, "api-version": "2025-01-01"},
        stream_max_retries=1,
    )
    return ModelClient(
        settings, retry_policy=FAST, prewarm=prewarm, env={"AZURE_KEY": ENV_SECRET, "TENANT": TENANT}
    )


def our_log(caplog: pytest.LogCaptureFixture) -> str:
    """Everything our client and the libraries under it logged (the fake server's own log of what it
    received is the other side of the wire, so it is left out)."""
    return "\n".join(
        f"{r.name}: {r.getMessage()}" for r in caplog.records if not r.name.startswith("codex_lsp.testing")
    )


@pytest.mark.parametrize("websockets", [True, False], ids=["ws", "http"])
async def test_no_configured_secret_reaches_a_log_or_an_error(
    fake: FakeResponsesServer, caplog: pytest.LogCaptureFixture, websockets: bool
) -> None:
    echo = {"kind": "status", "status": 500, "message": ECHO}
    fatal = {"kind": "status", "status": 400, "message": ECHO}
    fake.load(script([say("fine")], [say("x", fault=echo), say("x", fault=fatal)]))
    caplog.set_level(logging.DEBUG)
    async with client_for(fake, websockets) as client:
        assert texts(await run(client.new_turn(), [user("go")])) == "fine"
        with pytest.raises(ModelError) as caught:
            await run(client.new_turn(), [user("again")])
        retries = [e for e in caplog.records if e.name.startswith("codex_lsp.model")]
    request = fake.requests[-1]
    sent = fake.handshakes[0].headers if websockets else request.headers
    assert sent["api-key"] == ENV_SECRET, "the secrets were really sent"
    assert (sent["x-api-key"], sent["cookie"]) == (STATIC_SECRET, COOKIE_SECRET)
    logged = our_log(caplog)
    assert retries, "the retry was logged"
    if websockets:
        assert "> api-key: ***" in logged, "the handshake headers were logged, masked"
        assert "> x-tenant: ***" in logged
        assert "> x-plain: visible-value" in logged, "only secrets are masked"
    for text in (logged, str(caught.value), repr(caught.value)):
        for secret in SECRETS:
            assert secret not in text
    assert str(caught.value).count("***") == len(SECRETS)


async def test_retry_and_fallback_notices_are_masked(fake: FakeResponsesServer) -> None:
    refused = [{"status": 404, "message": ECHO}] * 2
    fake.load(script([say("over http")], handshake_faults=refused))
    async with client_for(fake, websockets=True, prewarm=False) as client:
        events = await run(client.new_turn(), [user("go")])
    notices = [e for e in events if isinstance(e, RetryNotice)]
    fallback = [e for e in events if isinstance(e, FallbackNotice)]
    assert notices
    assert len(fallback) == 1
    for message in [n.message for n in notices] + [f.message for f in fallback]:
        for secret in SECRETS:
            assert secret not in message


def test_what_counts_as_a_secret() -> None:
    for name in ("Authorization", "api-key", "X-API-Key", "cookie", "x-auth-token", "client_secret", "key"):
        assert is_secret_header(name), name
    for name in ("x-plain", "originator", "sec-websocket-key", "x-codex-turn-state", "openai-beta"):
        assert not is_secret_header(name), name
    for value in ("sk-abc", "Bearer abc", "a1b2c3d4e5f6g7h8i9j0k1l2m3"):
        assert looks_like_key(value), value
    for value in ("visible-value", "2025-01-01", "application/json"):
        assert not looks_like_key(value), value
    redactor = Redactor.of(
        key="sk-key", env_headers={"x-short": "1"}, headers={"x-plain": "v"}, query_params={}
    )
    assert redactor.header("x-short", "1") == "***", "a short secret is masked by its header's name"
    assert redactor.scrub("1 and sk-key") == "1 and ***", "but not replaced everywhere in text"
    assert redactor.header("x-plain", "v") == "v"


PROXY_KEY = API_KEY + "-proxy-7c1d2e9f"
"""A header secret that starts with the API key (a gateway key issued as the user's key plus a suffix)."""
SESSION_COOKIE = f"auth={API_KEY}; sid=0a1b2c3d4e5f6789"
"""A cookie that carries the API key inside it."""
TAILS = ("-proxy-7c1d2e9f", "sid=0a1b2c3d4e5f6789")


def nested_client(fake: FakeResponsesServer) -> ModelClient:
    settings = fake.model_settings(
        websockets=False,
        api_key=API_KEY,
        http_headers={"x-api-key": PROXY_KEY, "cookie": SESSION_COOKIE},
        stream_max_retries=1,
    )
    return ModelClient(settings, retry_policy=FAST, prewarm=False, env={})


async def test_a_secret_inside_another_is_masked_whole(
    fake: FakeResponsesServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Masking the API key first would leave "***-proxy-7c1d2e9f" and "auth=***; sid=…" in the text: the
    rest of the longer secret, shown to whoever reads the error."""
    echo = f"echoing the request: {PROXY_KEY} | {SESSION_COOKIE} | {API_KEY}"
    fake.load(script([say("x", fault={"kind": "status", "status": 400, "message": echo})]))
    caplog.set_level(logging.DEBUG)
    async with nested_client(fake) as client:
        with pytest.raises(ModelError) as caught:
            await run(client.new_turn(), [user("go")])
        scrubbed = client.scrub(echo)
        _, secrets = client.masking()
    assert fake.requests[-1].headers["x-api-key"] == PROXY_KEY, "the secrets were really sent"
    assert "echoing the request: *** | *** | ***" in str(caught.value)
    assert scrubbed == "echoing the request: *** | *** | ***"
    assert list(secrets) == sorted(secrets, key=len, reverse=True), "streams mask the longest first"
    for text in (our_log(caplog), str(caught.value), repr(caught.value)):
        for tail in TAILS:
            assert tail not in text


async def test_a_secret_of_one_client_inside_another_clients_is_masked_whole_in_library_logs(
    fake: FakeResponsesServer, caplog: pytest.LogCaptureFixture
) -> None:
    """The HTTP libraries' loggers are shared by every live client (two folders, two providers): masking
    one client's secrets after the other's would mask the API key inside the gateway's query key first
    and log the rest of it ("?key=***-proxy-7c1d2e9f"). Which client's secrets come first is up to a set's
    order, so a few pairs of clients are made."""
    pairs = 8
    fake.load(script(*([say("fine")] for _ in range(pairs))))
    caplog.set_level(logging.DEBUG)
    for _ in range(pairs):
        plain = ModelClient(fake.model_settings(websockets=False, api_key=API_KEY), retry_policy=FAST, env={})
        gateway = ModelClient(
            fake.model_settings(
                websockets=False, api_key="sk-gateway-0123456789", query_params={"key": PROXY_KEY}
            ),
            retry_policy=FAST,
            env={},
        )
        async with plain, gateway:
            assert texts(await run(gateway.new_turn(), [user("go")])) == "fine"
    logged = our_log(caplog)
    assert TAILS[0] not in logged
    assert logged.count("/v1/responses?key=*** ") == pairs, "the request lines were logged, masked"


def test_text_masked_for_several_clients_masks_a_secret_inside_another_whole(
    fake: FakeResponsesServer,
) -> None:
    """What the editor is shown is masked for every client the server holds (one per folder's settings):
    client by client, the one whose API key lies inside the other's gateway key would leave its rest."""
    plain = ModelClient(fake.model_settings(websockets=False, api_key=API_KEY), env={})
    gateway = ModelClient(
        fake.model_settings(
            websockets=False, api_key="sk-gateway-0123456789", http_headers={"x-api-key": PROXY_KEY}
        ),
        env={},
    )
    text = f"your keys: {PROXY_KEY} and {API_KEY}"
    for clients in ((plain, gateway), (gateway, plain)):
        assert ModelClient.scrub_all(clients, text) == "your keys: *** and ***"
