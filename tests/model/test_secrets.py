"""Every configured secret stays out of logs and errors, on both transports, with DEBUG logging on.

Secrets travel in more than the Authorization header: an ``env_http_headers`` entry (``api-key``, as Azure
wants it), key-like ``http_headers`` (``x-api-key``, ``cookie``), and a key-like query parameter. The
server here echoes all of them back in its error messages, the way a proxy quoting the request would.
"""

from __future__ import annotations

import gc
import logging
import weakref
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from websockets.frames import Frame, Opcode

from codex_lsp.model import ModelClient, redact
from codex_lsp.model.errors import ModelError
from codex_lsp.model.notices import FallbackNotice, RetryNotice
from codex_lsp.model.redact import (
    LIBRARY_LOGGERS,
    RedactingLogger,
    Redactor,
    guard_library_logs,
    is_secret_header,
    looks_like_key,
)
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
    for value in ("visible-value", "2025-01-01", "application/json", "gpt-4o", "responses=v1"):
        assert not looks_like_key(value), value
    redactor = Redactor.of(
        key="sk-key", env_headers={"x-short": "1"}, headers={"x-plain": "v"}, query_params={}
    )
    assert redactor.header("x-short", "1") == "***", "a short secret is masked by its header's name"
    assert redactor.scrub("1 and sk-key") == "1 and ***", "but not replaced everywhere in text"
    assert redactor.header("x-plain", "v") == "v"


def test_only_what_is_configured_is_a_secret() -> None:
    """The secrets are also what streamed text is held back for (a delta ending in a secret's start):
    a phantom one would hold back, and mask, text that is no one's secret."""
    plain = Redactor.of(
        env_headers={}, headers={"x-plain": "visible-value"}, query_params={"api-version": "2025-01-01"}
    )
    assert plain.values == ()
    assert Redactor.of(key="sk-abcd", env_headers={}, headers={}, query_params={}).values == ("sk-abcd",)


def test_a_secret_of_four_characters_is_masked_by_value_a_shorter_one_by_name_only() -> None:
    redactor = Redactor.of(env_headers={"x-pin": "4321", "x-short": "321"}, headers={}, query_params={})
    assert redactor.scrub("pin 4321, short 321") == "pin ***, short 321"
    assert redactor.header("x-short", "321") == "***"


GATEWAY_ID = "gw0123456789abcdefghijklmnop"
"""A key-like value under a name that says nothing about secrets: masked by value and by the name."""


def websocket_log(caplog: pytest.LogCaptureFixture) -> RedactingLogger:
    """The logger the ``websockets`` library is handed, for settings with secrets of every kind."""
    caplog.set_level(logging.DEBUG, logger="tests.websocket")
    redactor = Redactor.of(
        key=API_KEY, env_headers={"x-short": "1"}, headers={"X-Gateway-Id": GATEWAY_ID}, query_params={}
    )
    return RedactingLogger(logging.getLogger("tests.websocket"), redactor)


def test_the_websocket_log_masks_secret_headers_by_name_and_secrets_anywhere_by_value(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The lines ``websockets`` logs a handshake and its frames with, as it logs them."""
    log = websocket_log(caplog)
    echoed = f'{{"error": "bad key {API_KEY}"}}'.encode()
    log.debug("> GET %s HTTP/1.1", "/v1/responses")
    log.debug("> %s: %s", "x-short", "1")
    log.debug("> %s: %s", "Authorization", f"Bearer {API_KEY}")
    log.debug("> %s: %s", "x-plain", "1")
    log.debug("< %s: %s", "x-gateway-id", "gw9876543210zyxwvutsrqponm-rotated")
    log.debug("< %s: %s", "x-echo", f"you sent {API_KEY}")
    log.debug("= connection is %s", "OPEN")
    log.debug("< %s", Frame(Opcode.TEXT, echoed))
    log.debug("! failing connection with code %d", 1011)
    assert [r.getMessage() for r in caplog.records] == [
        "> GET /v1/responses HTTP/1.1",
        "> x-short: ***",
        "> Authorization: ***",
        "> x-plain: 1",
        "< x-gateway-id: ***",
        "< x-echo: you sent ***",
        "= connection is OPEN",
        f"< TEXT frame [{len(echoed)} bytes]",
        "! failing connection with code 1011",
    ]


@pytest.mark.parametrize("line", [("> %s: %s", "x-plain", "v"), ("unexpected internal error",)])
def test_the_websocket_log_keeps_the_traceback_a_line_is_logged_with(
    caplog: pytest.LogCaptureFixture, line: tuple[str, ...]
) -> None:
    """``websockets`` logs its internal errors with ``exc_info``: masking must not drop the traceback."""
    log = websocket_log(caplog)
    try:
        raise RuntimeError("keepalive ping failed")
    except RuntimeError:
        log.error(*line, exc_info=True)
    (record,) = caplog.records
    assert record.exc_info is not None
    assert record.exc_info[0] is RuntimeError


def test_masking_for_several_clients_masks_each_ones_secret_headers_by_name() -> None:
    short = Redactor.of(env_headers={"x-short": "1"}, headers={}, query_params={})
    keyed = Redactor.of(key=API_KEY, env_headers={}, headers={}, query_params={})
    for redactors in ((short, keyed), (keyed, short)):
        both = Redactor.union(redactors)
        assert (both.header("x-short", "1"), both.header("x-plain", "1")) == ("***", "1")
        assert both.scrub(f"{API_KEY} 1") == "*** 1"


@dataclass(eq=False)
class Secrets:
    """A stand-in for a client's connections: what the HTTP libraries' log guard asks for its secrets."""

    current: Redactor

    def redactor(self) -> Redactor:
        return self.current


@pytest.fixture
def unguarded_library_logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The HTTP libraries' loggers as a fresh process has them, before any client guarded them (the
    clients of earlier tests have put the guard on already, and any still alive would lend it secrets)."""
    monkeypatch.setattr(redact, "_SOURCES", weakref.WeakSet())
    loggers = [logging.getLogger(name) for name in LIBRARY_LOGGERS]
    before = {logger: list(logger.filters) for logger in loggers}
    for logger in loggers:
        logger.filters = [f for f in logger.filters if f is not redact._FILTER]
    yield
    for logger, filters in before.items():
        logger.filters = filters


def library_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name in LIBRARY_LOGGERS]


@pytest.mark.usefixtures("unguarded_library_logs")
def test_each_http_library_logger_masks_the_secrets_of_a_live_client(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = Secrets(Redactor.of(key=API_KEY, env_headers={}, headers={}, query_params={"key": QUERY_SECRET}))
    guard_library_logs(client)
    for name in LIBRARY_LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
        logging.getLogger(name).debug("HTTP Request: GET %s", f"https://host/v1/responses?key={QUERY_SECRET}")
    assert library_lines(caplog) == ["HTTP Request: GET https://host/v1/responses?key=***"] * len(
        LIBRARY_LOGGERS
    )
    assert client.current.values, "the client is alive to here"


@pytest.mark.usefixtures("unguarded_library_logs")
def test_http_library_records_are_logged_whole_once_no_client_lives(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="httpx")
    guard_library_logs(Secrets(Redactor.of(key=API_KEY, env_headers={}, headers={}, query_params={})))
    gc.collect()
    logging.getLogger("httpx").info("HTTP Request: GET %s", "https://host/v1/models")
    assert library_lines(caplog) == ["HTTP Request: GET https://host/v1/models"]


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
    cookie = ModelClient(
        fake.model_settings(
            websockets=False, api_key="sk-other-0123456789", http_headers={"cookie": SESSION_COOKIE}
        ),
        env={},
    )
    text = f"your keys: {PROXY_KEY} and {API_KEY}; your cookie: {SESSION_COOKIE}"
    for clients in ((plain, gateway, cookie), (cookie, gateway, plain)):
        assert ModelClient.scrub_all(clients, text) == "your keys: *** and ***; your cookie: ***"
