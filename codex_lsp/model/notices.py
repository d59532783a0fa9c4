"""Transport notices: what the retry loop tells the agent while a request is being retried or moved.

They are yielded by :meth:`TurnSession.stream <codex_lsp.model.session.TurnSession.stream>` between server
events, so the agent can show "Reconnecting… 2/5" or "Falling back to HTTP" to the user. A
:class:`RetryNotice` also means: the partial output of the attempt that just failed is void; the same
request is about to be sent again and its events will arrive from the start.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

__all__ = ["FallbackNotice", "RetryNotice", "TransportName"]

TransportName = Literal["websocket", "http"]


class RetryNotice(BaseModel):
    """A failed attempt is about to be retried after ``delay`` seconds."""

    model_config = ConfigDict(frozen=True)

    type: Literal["codex_lsp.retry"] = "codex_lsp.retry"
    transport: TransportName
    attempt: int
    """1-based number of this retry."""
    max_attempts: int
    delay: float
    reason: str
    overload: bool = False
    """True when the server said it is overloaded (its own, slower schedule)."""

    @property
    def message(self) -> str:
        """The line to show the user."""
        return f"Reconnecting... {self.attempt}/{self.max_attempts} ({self.reason})"


class FallbackNotice(BaseModel):
    """The client left WebSocket for HTTP SSE, for good; the request is resent over HTTP."""

    model_config = ConfigDict(frozen=True)

    type: Literal["codex_lsp.fallback"] = "codex_lsp.fallback"
    reason: str
    to: Literal["HTTP", "HTTPS"] = "HTTPS"
    """What the requests now travel over: ``HTTP`` when the base URL is plain ``http://``."""

    @property
    def message(self) -> str:
        """The line to show the user (Codex's wording, with the scheme the base URL really uses)."""
        return f"Falling back from WebSockets to {self.to} transport. {self.reason}"
