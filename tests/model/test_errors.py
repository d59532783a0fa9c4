"""The error tree says what the retry loop does, and the retry loop does what the classes say.

The module docstring of :mod:`codex_lsp.model.errors` lists every class with its policy; these tests hold
the docstring, the class attributes and the behaviour of :class:`TurnSession` to one another.
"""

from __future__ import annotations

import re

import pytest

from codex_lsp.model import errors
from codex_lsp.model.errors import (
    AuthError,
    ConfigError,
    FatalModelError,
    ModelError,
    RateLimited,
    RetriesExhausted,
    StreamClosed,
    TransportError,
    Unauthorized,
)
from codex_lsp.testing import FakeResponsesServer
from tests.model.conftest import ClientFactory
from tests.model.helpers import run, say, script, texts, user

CLASSES = {
    name: cls
    for name, cls in vars(errors).items()
    if isinstance(cls, type) and issubclass(cls, ModelError) and name in errors.__all__
}
_LINE = re.compile(r"^\s*``(\w+)``\s+retry ``(\w+)``(.*)$")


def documented() -> dict[str, tuple[str, str]]:
    """Class name → (retry kind, the rest of its entry, continuation lines included) as the module
    docstring states them."""
    found: dict[str, tuple[str, str]] = {}
    last = None
    for line in (errors.__doc__ or "").splitlines():
        match = _LINE.match(line)
        if match:
            last = match.group(1)
            found[last] = (match.group(2), match.group(3))
        elif last is not None and line.startswith(" " * 20):
            kind, rest = found[last]
            found[last] = (kind, f"{rest} {line.strip()}")
        else:
            last = None
    return found


def test_failures_that_are_not_the_networks_fault_are_not_transport_errors() -> None:
    for cls in (ConfigError, AuthError, FatalModelError, RetriesExhausted):
        assert issubclass(cls, ModelError)
        assert not issubclass(cls, TransportError)
        assert cls.retry == "never"
    retried = [cls for cls in CLASSES.values() if cls.retry not in ("never", "reauth")]
    assert retried
    assert all(issubclass(cls, TransportError) for cls in retried)
    recovered = [cls for cls in CLASSES.values() if cls.retry == "reauth"]
    assert recovered == [Unauthorized], "only a 401 asks the credential to recover"
    assert issubclass(Unauthorized, AuthError), "and when it cannot, it is an AuthError like any other"


def test_the_docstring_lists_every_class_with_the_policy_it_has() -> None:
    table = documented()
    assert set(table) == set(CLASSES)
    for name, (kind, rest) in table.items():
        cls = CLASSES[name]
        assert cls.retry == kind, f"{name}: documented retry {kind!r}, the class says {cls.retry!r}"
        if kind in ("backoff", "overload"):
            stays = "never a reason to leave WebSocket" in rest
            assert cls.leaves_websocket is not stays, f"{name}: leaves_websocket disagrees with its line"
        assert (cls.http_budget == "request") == ("request_max_retries" in rest), name


@pytest.mark.parametrize("websockets", [True, False], ids=["ws", "http"])
async def test_the_retry_loop_reads_the_policy_from_the_class(
    fake: FakeResponsesServer,
    make_client: ClientFactory,
    monkeypatch: pytest.MonkeyPatch,
    websockets: bool,
) -> None:
    """Declaring a class fatal makes it fatal: there is no second list of classes in the loop."""
    cut = {"kind": "close", "after_events": 2}
    fake.load(script([say("x", fault=cut), say("never sent")]))
    monkeypatch.setattr(StreamClosed, "retry", "never")
    client = make_client(websockets=websockets)
    with pytest.raises(StreamClosed):
        await run(client.new_turn(), [user("go")])
    assert len(fake.requests) == 1


async def test_leaving_websocket_is_read_from_the_class(
    fake: FakeResponsesServer, make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    limited = {"kind": "status", "status": 429, "message": "slow down"}
    fake.load(script([say("x", fault=limited), say("over http")]))
    monkeypatch.setattr(RateLimited, "leaves_websocket", True)
    client = make_client(stream_max_retries=0)
    events = await run(client.new_turn(), [user("go")])
    assert texts(events) == "over http"
    assert [r.transport for r in fake.requests] == ["websocket", "http"]
