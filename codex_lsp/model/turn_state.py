"""Request-scoped turn state: the ``x-codex-turn-state`` routing token.

The server hands out an opaque token so that every request of one logical turn reaches the same backend.
The contract, as Codex 0.169 follows it on the wire:

- one write-once cell per (turn, requested model): the **first** token wins; later values in the same turn
  never replace it, and a model switch starts from nothing;
- a new :class:`TurnState` per logical turn, so the next turn starts with none even on the same socket;
- WebSocket learns the token from a ``response.metadata`` event (the older ``codex.response.metadata`` is
  accepted too); a token on the 101 upgrade reply is ignored, as 0.169 ignores it;
- HTTP learns it only from the ``x-codex-turn-state`` response header; in-stream metadata is ignored there;
- WebSocket requests carry it in ``client_metadata``, **omitting the key** until a token is known (0.169's
  choice; upstream tests write ``""``); HTTP requests carry it as a request header; a reconnect within the
  turn also sends it as a handshake header.
"""

from __future__ import annotations

__all__ = ["TURN_STATE_HEADER", "TurnState"]

TURN_STATE_HEADER = "x-codex-turn-state"
"""Header (HTTP, handshake, metadata events) and client_metadata key carrying the token."""


class TurnState:
    """The write-once token cells of one logical turn, one per requested model."""

    def __init__(self) -> None:
        self._tokens: dict[str, str] = {}

    def get(self, model: str) -> str | None:
        """The token held for ``model`` in this turn, if any."""
        return self._tokens.get(model)

    def offer(self, model: str, token: str | None) -> bool:
        """Store ``token`` for ``model`` unless one is already held; return whether it was stored."""
        if not token or model in self._tokens:
            return False
        self._tokens[model] = token
        return True

    def __repr__(self) -> str:
        return f"TurnState(models={sorted(self._tokens)})"
