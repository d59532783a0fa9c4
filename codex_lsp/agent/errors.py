"""The agent layer's exceptions (a request the agent refuses before any turn starts).

Failures inside a turn never raise: they end the turn with status ``failed`` and a message, since
the editor needs a result either way. These are for requests that cannot start a turn at all;
the LSP layer turns them into an error reply. Policy: never retried automatically.
"""

from __future__ import annotations

__all__ = ["ThreadNotFoundError", "TurnBusyError", "TurnError"]


class TurnError(Exception):
    """Base: the request cannot start a turn; the message says why and what to do."""


class TurnBusyError(TurnError):
    """A turn is already running on that thread (one at a time per thread)."""


class ThreadNotFoundError(TurnError):
    """No thread with that id exists (or its file could not be read)."""
