"""The rules for who may connect: addresses, tokens, origins, the first TCP message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codex_lsp.lsp import access  # for generate_token, validate_token
from codex_lsp.lsp.access import (
    AccessError,
    ListenAddress,
    Refusal,
    admit_first_message,
    check_upgrade,
    normalize_origin,
    parse_listen_address,
    read_token_file,
    refusal_response,
    token_matches,
)

TOKEN = "a-token-of-enough-length-1234"


@pytest.mark.parametrize(
    ("text", "host", "port", "loopback"),
    [
        ("127.0.0.1:8765", "127.0.0.1", 8765, True),
        ("8765", "127.0.0.1", 8765, True),
        ("localhost:0", "localhost", 0, True),
        ("[::1]:9000", "::1", 9000, True),
        ("127.8.9.10:1", "127.8.9.10", 1, True),
        ("0.0.0.0:8765", "0.0.0.0", 8765, False),
        ("[::]:8765", "::", 8765, False),
        ("192.168.1.5:80", "192.168.1.5", 80, False),
        ("myhost.example:80", "myhost.example", 80, False),
    ],
)
def test_listen_addresses(text: str, host: str, port: int, loopback: bool) -> None:
    address = parse_listen_address(text)
    assert address == ListenAddress(host, port)
    assert address.is_loopback is loopback


@pytest.mark.parametrize("text", [":8765", "127.0.0.1:", "127.0.0.1:http", "127.0.0.1:70000", "", "[::1]"])
def test_bad_listen_addresses_say_what_to_write(text: str) -> None:
    with pytest.raises(AccessError, match="HOST:PORT"):
        parse_listen_address(text)


def test_ipv6_urls_use_brackets() -> None:
    assert ListenAddress("::1", 80).url("ws") == "ws://[::1]:80"
    assert ListenAddress("127.0.0.1", 80).url("tcp") == "tcp://127.0.0.1:80"


def test_tokens_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[bytes, bytes]] = []

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return a == b

    monkeypatch.setattr("codex_lsp.lsp.access.hmac.compare_digest", spy)
    assert token_matches(TOKEN, TOKEN)
    assert not token_matches("é" + TOKEN, TOKEN)  # non-ASCII guesses are compared as bytes, not rejected
    assert not token_matches(None, TOKEN)
    assert compared == [(TOKEN.encode(), TOKEN.encode()), (("é" + TOKEN).encode(), TOKEN.encode())]


def test_generated_tokens_are_long_and_fresh() -> None:
    first, second = access.generate_token(), access.generate_token()
    assert first != second
    assert len(first) >= 43
    assert access.validate_token(first, "generated") == first


def test_a_token_file_is_read_and_stripped(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text(TOKEN + "\n")
    path.chmod(0o600)
    assert read_token_file(path) == (TOKEN, None)
    path.chmod(0o644)
    token, warning = read_token_file(path)
    assert token == TOKEN
    assert warning is not None
    assert "readable by other users" in warning


@pytest.mark.parametrize(
    ("mode", "warned"),
    [
        (0o600, False),
        (0o400, False),
        (0o700, False),
        (0o640, True),  # the group can read the token: its members are other users
        (0o620, True),  # ... or replace it with one of their own
        (0o660, True),
        (0o604, True),
        (0o602, True),
    ],
    ids=lambda value: value if isinstance(value, bool) else oct(value),
)
def test_a_token_file_anyone_but_its_owner_can_use_is_warned_about(
    tmp_path: Path, mode: int, warned: bool
) -> None:
    path = tmp_path / "token"
    path.write_text(TOKEN + "\n")
    path.chmod(mode)
    token, warning = read_token_file(path)
    assert token == TOKEN
    assert (warning is not None) == warned, oct(mode)
    if warned:
        assert warning == f"the token file {path} is readable by other users; chmod 600 it"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "is empty"),
        ("   \n", "is empty"),
        ("short", "shorter than 16"),
        ("has a space inside it!!", "ASCII"),
    ],
)
def test_unusable_token_files_are_refused(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "token"
    path.write_text(content)
    with pytest.raises(AccessError, match=message):
        read_token_file(path)


def test_a_missing_token_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(AccessError, match=f"cannot read the token file {tmp_path / 'nope'}"):
        read_token_file(tmp_path / "nope")


def test_origins_are_normalized_as_browsers_send_them() -> None:
    assert normalize_origin("HTTP://LocalHost:3000/") == "http://localhost:3000"
    assert normalize_origin("vscode-webview://abc123") == "vscode-webview://abc123"
    assert normalize_origin("null") == "null"
    for bad in ("localhost:3000", "http://", "http://host/path", "*"):
        with pytest.raises(AccessError, match="scheme://host"):
            normalize_origin(bad)


ALLOWED = frozenset({"http://localhost:3000"})


def upgrade(origins: list[str], auth: list[str], path: str = "/") -> Refusal | None:
    return check_upgrade(origins, auth, path, TOKEN, ALLOWED)


def test_upgrade_rules() -> None:
    assert upgrade([], [f"Bearer {TOKEN}"]) is None
    assert upgrade([], [f"bearer   {TOKEN} "]) is None
    assert upgrade(["http://LOCALHOST:3000"], [], f"/lsp?x=1&token={TOKEN}") is None
    assert upgrade(["http://localhost:3000"], [f"Bearer {TOKEN}"], f"/?token={TOKEN}") is None

    refused = upgrade(["https://evil.example"], [f"Bearer {TOKEN}"])
    assert refused is not None
    assert (refused.status, "not allowed" in refused.reason) == (403, True)
    two = upgrade(["http://localhost:3000", "http://localhost:3000"], [f"Bearer {TOKEN}"])
    assert two is not None
    assert two.status == 403
    garbage = upgrade(["garbage"], [f"Bearer {TOKEN}"])
    assert garbage == Refusal("origin 'garbage' is not allowed (see --allow-origin)", 403)

    missing = upgrade([], [f"Basic {TOKEN}"])
    assert missing is not None
    assert (missing.status, missing.reason.startswith("no token")) == (401, True)
    assert upgrade([], [], "/?token=") == missing
    assert upgrade([], [f"Bearer {TOKEN}x"]) == Refusal("wrong token", 401)
    assert upgrade([], [f"Bearer {TOKEN}"], "/?token=other-token-value") == Refusal("wrong token", 401)


def first(options: object, method: str = "initialize", request_id: object = 1) -> bytes:
    message = {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": method,
        "params": {"initializationOptions": options},
    }
    return json.dumps(message).encode()


def test_the_first_tcp_message_must_be_initialize_with_the_token() -> None:
    admitted = admit_first_message(first({"token": TOKEN, "model": "m"}), TOKEN)
    assert isinstance(admitted, bytes)
    assert json.loads(admitted)["params"]["initializationOptions"] == {"model": "m"}

    assert admit_first_message(first({"token": TOKEN + "x"}), TOKEN) == Refusal("wrong token", request_id=1)
    assert admit_first_message(first({"token": 1}), TOKEN) == Refusal(
        "initialize carries no initializationOptions.token", request_id=1
    )
    assert admit_first_message(first(None), TOKEN) == Refusal(
        "initialize carries no initializationOptions.token", request_id=1
    )
    assert admit_first_message(first({"token": TOKEN}, "shutdown", "a"), TOKEN) == Refusal(
        "the first message must be the initialize request", request_id="a"
    )
    # A notification named initialize has no id to answer; neither has a boolean id.
    assert admit_first_message(first({"token": TOKEN}, request_id=None), TOKEN) == Refusal(
        "the first message must be the initialize request"
    )
    assert admit_first_message(first({"token": TOKEN}, request_id=True), TOKEN) == Refusal(
        "the first message must be the initialize request"
    )
    assert admit_first_message(b"\xff not json", TOKEN) == Refusal("the first message is not JSON")
    assert admit_first_message(b"[1, 2]", TOKEN) == Refusal("the first message is not a JSON-RPC message")


def test_a_refused_request_is_answered_with_the_reason_and_nothing_else_is() -> None:
    answer = refusal_response(Refusal("wrong token", request_id=3))
    assert answer is not None
    assert json.loads(answer) == {
        "jsonrpc": "2.0",
        "id": 3,
        "error": {"code": -32600, "message": "codex-lsp refused the connection: wrong token"},
    }
    assert refusal_response(Refusal("the first message is not JSON")) is None
