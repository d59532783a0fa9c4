"""Giving memory back once an editor closes (or rewrites) big documents.

CPython hands every string over 512 bytes to the C allocator. glibc's ``malloc`` keeps what is freed in
its heaps for reuse, and after a large block is freed it raises its mmap threshold, so later large
blocks come from the heap as well: documents opened and then closed leave their pages resident long
after the texts are gone (2,000 documents of 200 KB: about 270 MiB more than before, held for the life
of the server). ``malloc_trim`` returns the heaps' free pages to the system.

:class:`HeapTrimmer` counts the document text released (a document closed, or its text replaced by a
change) and trims once per :data:`TRIM_AFTER` characters of it: a burst of closes costs a handful of
calls, each well under a millisecond on a heap of hundreds of megabytes, and a session editing small
files never trims at all. Where there is no glibc it does nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

__all__ = ["TRIM_AFTER", "HeapTrimmer", "malloc_trim"]

log = logging.getLogger(__name__)

TRIM_AFTER = 16 * 1024 * 1024
"""Characters of document text released between two trims (what may stay resident, at most)."""


def malloc_trim() -> bool:
    """Return the C heaps' free pages to the system (glibc); whether it could."""
    libc = _libc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True


_LIBC: list[Any] = []


def _libc() -> Any:
    """The C library this process runs, if it has ``malloc_trim`` (glibc; ``None`` elsewhere: musl,
    macOS, Windows). ``ctypes`` is imported on first use, not at start-up."""
    if not _LIBC:
        import ctypes

        try:
            libc: Any = ctypes.CDLL(None)  # the symbols the process has loaded, the C library's among them
        except (OSError, TypeError):
            libc = None
        _LIBC.append(libc if libc is not None and hasattr(libc, "malloc_trim") else None)
    return _LIBC[0]


class HeapTrimmer:
    """Trims the heap once enough document text has been released since the last time."""

    def __init__(self, trim: Callable[[], bool] = malloc_trim, after: int = TRIM_AFTER) -> None:
        self._trim = trim
        self._after = after
        self.pending = 0
        """Characters released since the last trim."""
        self.trims = 0

    def released(self, characters: int) -> None:
        """``characters`` of document text are no longer held (a close, or a text replaced)."""
        self.pending += characters
        if self.pending >= self._after:
            self.pending = 0
            self.trims += 1
            if not self._trim():
                self._trim = _nothing
                log.debug("no malloc_trim here: freed memory stays with the allocator")


def _nothing() -> bool:
    return True
