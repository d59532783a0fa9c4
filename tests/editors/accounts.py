"""The OpenAI sign-in in editor tests: the fake issuer on the background loop, and a Codex home that uses it.

`HostedIssuer` is `codex_lsp.testing.FakeIssuer` (the fake ``auth.openai.com``: device codes, token
refresh, revoke) served from the same background loop as the fake model (`HostedFake`), read and acted on
from the test's thread. ``codex_lsp.testing.write_chatgpt_home`` writes the ``config.toml`` of a user whose
provider takes the OpenAI sign-in (``requires_openai_auth``), pointed at the fake model's ChatGPT-shaped URL;
``issuer.env()`` then points codex-lsp's sign-in, refresh and revoke at the issuer.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from codex_lsp.testing import FakeIssuer
from tests.editors.background import BackgroundLoop

__all__ = ["HostedIssuer"]

T = TypeVar("T")


class HostedIssuer:
    """A started `FakeIssuer` on a `BackgroundLoop`."""

    def __init__(self, loop: BackgroundLoop, issuer: FakeIssuer) -> None:
        self.loop = loop
        self.issuer = issuer
        """The issuer itself: read its records through `HostedIssuer.read` while it may be serving."""

    @classmethod
    def start(cls, loop: BackgroundLoop) -> HostedIssuer:
        issuer = FakeIssuer()
        loop.run(issuer.start())
        return cls(loop, issuer)

    @property
    def url(self) -> str:
        return self.issuer.url

    def env(self) -> dict[str, str]:
        """The environment that points codex-lsp's sign-in, refresh and revoke at this issuer."""
        return self.issuer.env()

    def read(self, function: Callable[[FakeIssuer], T]) -> T:
        """Read the issuer's state consistently, e.g. ``issuer.read(lambda i: i.refreshes())``."""
        return self.loop.call(lambda: function(self.issuer))

    def pending_codes(self) -> list[str]:
        """The user codes handed out and not approved yet."""
        return self.read(lambda i: [d.user_code for d in i.devices.values() if not d.approved])

    def approve(self, user_code: str) -> None:
        """The user entered ``user_code`` on the sign-in page."""
        self.loop.call(lambda: self.issuer.approve(user_code))

    def approve_at_once(self) -> None:
        """Approve every device code at its first poll, as a user quicker than the test could act."""

        def approve() -> None:
            self.issuer.auto_approve = True

        self.loop.call(approve)

    def stop(self) -> None:
        self.loop.run(self.issuer.stop())
