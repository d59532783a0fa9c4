"""Masking configured secrets in text that streams in pieces.

The model (or a proxy in front of it) may stream a key back, and a delta boundary may fall anywhere
in it: ``"…sk-ab"`` then ``"cd…"``. Masking each delta alone would let both halves through, so
:class:`StreamMask` holds back the end of what it has seen while that end could still be the start of
a secret (a whole secret too, when a longer one starts with it), never cuts through a secret, and
masks only what it shows; the held text follows with the next delta, or when the item ends
(:meth:`StreamMask.flush`). The deltas shown then add up to the item's text, masked.

Only what is shown is masked: the thread's history keeps the model's own words (the model needs them
back), and the thread file masks them when it is written (``Thread.scrub``).
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["StreamMask", "held_back", "safe_cut"]


def held_back(text: str, secrets: tuple[str, ...]) -> int:
    """How many characters at the end of ``text`` could be the start of one of ``secrets`` (the longest
    such end that is not a whole secret)."""
    longest = 0
    for secret in secrets:
        window = min(len(secret) - 1, len(text))
        if window <= longest:
            continue
        start = len(text) - window
        at = text.find(secret[0], start)
        while at != -1 and len(text) - at > longest:
            if secret.startswith(text[at:]):
                longest = len(text) - at
                break
            at = text.find(secret[0], at + 1)
    return longest


def safe_cut(text: str, secrets: tuple[str, ...]) -> int:
    """Where ``text`` may be cut, shown before and held after: before any end that could start a
    secret, and moved back to the start of any secret the cut would go through."""
    cut = len(text) - held_back(text, secrets)
    moved = True
    while moved:
        moved = False
        for secret in secrets:
            at = text.find(secret, max(cut - len(secret) + 1, 0), cut + len(secret) - 1)
            if at != -1 and at < cut:
                cut, moved = at, True
    return cut


class StreamMask:
    """Masks one streamed text (one item's deltas), holding back a possible start of a secret."""

    def __init__(self, scrub: Callable[[str], str], secrets: tuple[str, ...]) -> None:
        """``scrub`` masks ``secrets``, the values read when the item started (a token refreshed while one
        item streams is masked in the completed item and in the thread file, read afresh)."""
        self._scrub = scrub
        self._secrets = secrets
        self._held = ""

    def feed(self, delta: str) -> str:
        """The part of ``held + delta`` that can be shown now, masked."""
        text = self._held + delta
        cut = safe_cut(text, self._secrets)
        self._held = text[cut:]
        return self._scrub(text[:cut])

    def flush(self) -> str:
        """What is still held back, masked (the item ended)."""
        held, self._held = self._held, ""
        return self._scrub(held)
