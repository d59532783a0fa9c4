"""Who may connect to the socket modes: addresses, tokens and browser origins.

Whoever connects to ``--tcp`` or ``--ws`` gets an agent that edits files (and runs commands when the
shell is enabled), so both modes bind the loopback interface unless told otherwise, demand a secret
token, and ``--ws`` refuses web pages it was not told to trust (any page the user visits can open
``ws://127.0.0.1:PORT``). Everything here is pure and synchronous so that each rule is testable on
its own; ``serve.py`` applies the rules before a single LSP message reaches the server.

Standard library only: the command line uses it while parsing, before pygls is imported.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import re
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

LOOPBACK_HOST = "127.0.0.1"
MIN_TOKEN_LENGTH = 16
# Printable ASCII without spaces: fits an HTTP header, a JSON string and (encoded) a query string.
_TOKEN_CHARS = re.compile(r"[\x21-\x7e]+")
_ORIGIN = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*)://(?P<host>[^/?#\s]+)")


class AccessError(ValueError):
    """A listening address, token or origin given by the user is unusable; the text says why."""


@dataclass(frozen=True)
class ListenAddress:
    """Where a socket mode listens. ``port`` 0 lets the system pick a free port."""

    host: str
    port: int

    @property
    def is_loopback(self) -> bool:
        """True when only this machine can reach the address."""
        return is_loopback_host(self.host)

    def url(self, scheme: str) -> str:
        """The address as ``scheme://host:port`` (IPv6 hosts in brackets)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"


def parse_listen_address(text: str) -> ListenAddress:
    """Parse ``HOST:PORT``, ``[IPv6]:PORT`` or a bare ``PORT`` (which listens on 127.0.0.1)."""
    host, sep, port_text = text.strip().rpartition(":")
    if not sep:
        host, port_text = LOOPBACK_HOST, text.strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host:
        raise AccessError(f"{text!r} has no host; write HOST:PORT, e.g. 127.0.0.1:8765")
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise AccessError(f"{text!r} has no valid port (0-65535); write HOST:PORT, e.g. 127.0.0.1:8765")
    return ListenAddress(host, int(port_text))


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback IP literals; any other name may resolve off this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def generate_token() -> str:
    """A fresh URL-safe token with 256 bits of randomness."""
    return secrets.token_urlsafe(32)


def validate_token(token: str, source: str) -> str:
    """Return ``token`` if it is usable, else raise ``AccessError`` naming ``source``."""
    if not token:
        raise AccessError(f"{source} is empty")
    if not _TOKEN_CHARS.fullmatch(token):
        raise AccessError(f"the token in {source} must be printable ASCII without spaces")
    if len(token) < MIN_TOKEN_LENGTH:
        raise AccessError(
            f"the token in {source} is shorter than {MIN_TOKEN_LENGTH} characters; make one with "
            "`python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`"
        )
    return token


def read_token_file(path: Path) -> tuple[str, str | None]:
    """Read a token file; return the token and a warning when other users may read the file."""
    try:
        text = path.read_text(encoding="utf-8")
        mode = path.stat().st_mode
    except (OSError, UnicodeDecodeError) as exc:
        raise AccessError(f"cannot read the token file {path}: {exc}") from exc
    token = validate_token(text.strip(), f"token file {path}")
    warning = None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        warning = f"the token file {path} is readable by other users; chmod 600 it"
    return token, warning


def token_matches(offered: str | None, token: str) -> bool:
    """Compare in constant time, so the time taken says nothing about how much of a guess was right."""
    if offered is None:
        return False
    return hmac.compare_digest(offered.encode("utf-8"), token.encode("utf-8"))


def normalize_origin(text: str) -> str:
    """Return an origin in the form browsers send (``scheme://host[:port]``, lower case), or ``null``."""
    value = text.strip().rstrip("/").lower()
    if value == "null":
        return value
    if not _ORIGIN.fullmatch(value):
        raise AccessError(
            f"{text!r} is not an origin; write scheme://host[:port], e.g. http://localhost:3000"
        )
    return value


def origin_allowed(origin: str | None, allowed: frozenset[str]) -> bool:
    """Clients that send no ``Origin`` are not browsers and pass; a browser's origin must be listed."""
    if origin is None:
        return True
    try:
        return normalize_origin(origin) in allowed
    except AccessError:
        return False


@dataclass(frozen=True)
class Refusal:
    """Why a connection is turned away; ``status`` is the HTTP status for a WebSocket upgrade."""

    reason: str
    status: int = 401
    request_id: int | str | None = None


def check_upgrade(
    origins: list[str], authorizations: list[str], path: str, token: str, allowed: frozenset[str]
) -> Refusal | None:
    """Decide a WebSocket upgrade from its ``Origin`` and ``Authorization`` headers and its path.

    The token may come as ``Authorization: Bearer <token>`` or, because browsers cannot set
    headers on a WebSocket, as the ``token`` query parameter.
    """
    if len(origins) > 1:
        return Refusal("more than one Origin header", 403)
    origin = origins[0] if origins else None
    if not origin_allowed(origin, allowed):
        return Refusal(f"origin {origin!r} is not allowed (see --allow-origin)", 403)
    offered = _offered_upgrade_token(authorizations, path)
    if offered is None:
        return Refusal("no token (send Authorization: Bearer <token> or ?token=<token>)")
    if not token_matches(offered, token):
        return Refusal("wrong token")
    return None


def _offered_upgrade_token(authorizations: list[str], path: str) -> str | None:
    query = parse_qs(urlsplit(path).query).get("token", [])
    offered = [value for value in query if value]
    for header in authorizations:
        scheme, _, credentials = header.strip().partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            offered.append(credentials.strip())
    if not offered:
        return None
    # Two different tokens in one request count as a wrong one, not as two chances to guess.
    return offered[0] if len(set(offered)) == 1 else ""


def admit_first_message(body: bytes, token: str) -> bytes | Refusal:
    """Check the first message of a TCP connection; on success return it with the token removed.

    A TCP client has no upgrade to carry a token, but every editor can send initialization
    options, so the first message must be ``initialize`` with ``initializationOptions.token``. The
    token is removed before the server sees the message, so it reaches no settings and no log.
    """
    try:
        message = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return Refusal("the first message is not JSON")
    if not isinstance(message, dict):
        return Refusal("the first message is not a JSON-RPC message")
    raw_id = message.get("id")
    request_id = raw_id if isinstance(raw_id, int | str) and not isinstance(raw_id, bool) else None
    params = message.get("params")
    options = params.get("initializationOptions") if isinstance(params, dict) else None
    if message.get("method") != "initialize" or request_id is None:
        return Refusal("the first message must be the initialize request", request_id=request_id)
    if not isinstance(options, dict) or not isinstance(options.get("token"), str):
        return Refusal("initialize carries no initializationOptions.token", request_id=request_id)
    if not token_matches(options.pop("token"), token):
        return Refusal("wrong token", request_id=request_id)
    return json.dumps(message).encode("utf-8")


def refusal_response(refusal: Refusal) -> bytes | None:
    """The JSON-RPC error answering a refused first request, or None when there is no id to answer."""
    if refusal.request_id is None:
        return None
    error = {"code": -32600, "message": f"codex-lsp refused the connection: {refusal.reason}"}
    return json.dumps({"jsonrpc": "2.0", "id": refusal.request_id, "error": error}).encode("utf-8")
