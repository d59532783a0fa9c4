"""Whether the model's endpoint can be reached, checked without a model request.

Editors' health checks (Neovim's ``:checkhealth codex``) ask ``codex.status`` with ``probe: true``;
the answer then carries ``reachable`` (bool), ``probeMs`` and, when something is wrong, ``probeError``.

- **WebSocket** (the transport in use): the handshake a turn would make, with the same headers
  (``TurnSession.preconnect``); the socket is kept for the next turn. A provider that refuses the
  upgrade with an HTTP status did answer, so it is reachable; the status is the error (a turn falls
  back to HTTP on 426 by itself). A handshake that fails before any answer (no key, refused
  connection) is followed by the HTTP check, which tells the two apart.
- **HTTP**: a TCP connection to the base URL's host and port. Nothing is sent: any request to the
  Responses endpoint would be a model call, and an HTTP answer would prove no more than the
  connection does.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from codex_lsp.model import ModelClient

__all__ = ["PROBE_SECONDS", "probe"]

PROBE_SECONDS = 5.0
"""How long a probe may take before the endpoint counts as unreachable."""
_DEFAULT_PORTS = {"http": 80, "ws": 80, "https": 443, "wss": 443}


async def _tcp(url: str) -> None:
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        raise ValueError(f"no host in {url}")
    port = parts.port or _DEFAULT_PORTS.get(parts.scheme, 443)
    _, writer = await asyncio.open_connection(host, port)
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()


async def _check(client: ModelClient, base_url: str) -> tuple[bool, str | None]:
    """(reachable, what went wrong): the handshake when on WebSocket, else (or when it failed before any
    answer, such as for a missing key) whether the host accepts a connection at all."""
    from codex_lsp.model import ModelError

    handshake_error = None
    if client.transport == "websocket":
        try:
            await client.new_turn().preconnect()
            return True, None
        except ModelError as exc:
            if exc.status is not None:  # an HTTP status is an answer: the endpoint is there
                return True, client.scrub(exc.message)
            handshake_error = client.scrub(exc.message)
    try:
        await _tcp(base_url)
    except (OSError, ValueError) as exc:
        return False, f"cannot connect to {base_url}: {exc}"
    return True, handshake_error


async def probe(client: ModelClient, seconds: float = PROBE_SECONDS) -> dict[str, Any]:
    """``{reachable, probeMs, probeError?}`` for ``client``'s endpoint over its current transport."""
    base_url = client.settings.base_url
    started = time.perf_counter()
    try:
        async with asyncio.timeout(seconds):
            reachable, error = await _check(client, base_url)
    except TimeoutError:
        reachable, error = False, f"no connection to {base_url} within {seconds:g} s"
    result: dict[str, Any] = {
        "reachable": reachable,
        "probeMs": round((time.perf_counter() - started) * 1000),
    }
    if error:
        result["probeError"] = error
    return result
