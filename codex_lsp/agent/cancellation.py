"""Interrupt checkpoints: a cancellation that was requested is never forgotten.

An interrupt is a ``Task.cancel()`` (see :mod:`codex_lsp.agent.agent`). Asyncio delivers it as a
``CancelledError`` at the task's next suspension, which is not always enough:

- a request that comes while the task runs synchronous work (a large patch being matched and
  written) is only delivered at the next await that really suspends — which may be after the
  turn has already sent its next model request;
- code below the turn may swallow the error: on Python 3.11 ``asyncio.wait_for`` returns the
  inner result when the inner awaitable finishes in the same loop iteration as the cancellation
  (CPython gh-86296), and the turn would run on as if nothing happened.

``Task.cancelling()`` counts requests whether or not the error was delivered or swallowed, so the
turn loop calls :func:`checkpoint` before every step that talks to the model or changes files.
"""

from __future__ import annotations

import asyncio
import contextlib

__all__ = ["absorb_late_interrupt", "checkpoint", "interrupt_requested"]


def interrupt_requested() -> bool:
    """Whether the current task has a cancellation request pending (delivered or not)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


async def checkpoint() -> None:
    """Raise ``CancelledError`` if the current task was asked to stop; otherwise return at once."""
    if not interrupt_requested():
        return
    # A request not yet delivered is delivered here, as a CancelledError from this await.
    await asyncio.sleep(0)
    # It was delivered earlier and swallowed on the way: raise it again.
    raise asyncio.CancelledError


async def absorb_late_interrupt() -> None:
    """Take delivery of an interrupt that came after the turn decided how it ended.

    A task cancelled while it runs its last synchronous steps would otherwise end *cancelled*
    when its coroutine returns, losing the result it was about to return.
    """
    if interrupt_requested():
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(0)
