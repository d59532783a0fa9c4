"""``codex-lsp exec``: one agent turn on a folder, from the terminal, without an editor.

The same agent as in the editor, with the disk as its workspace and the terminal as its approver:
the agent's text streams to stdout as it arrives, everything else (patches, commands, retries)
is reported on stderr, and patches are written atomically — or, with ``--dry-run``, kept in
memory and printed as one diff at the end. Exit status: 0 completed, 1 failed, 130 interrupted.
"""

from __future__ import annotations

import asyncio
import contextlib
import shlex
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import TextIO

from codex_lsp.agent import (
    Agent,
    AgentMessageDelta,
    AgentMessageItem,
    AgentSettings,
    CommandFinished,
    CommandStarted,
    DiskApplier,
    DryRunApplier,
    FileChangeItem,
    ItemCompleted,
    LocalWorkspace,
    PlanUpdated,
    ReasoningItem,
    TerminalApprover,
    ThreadNotFoundError,
    ThreadStore,
    TransportNotice,
    TurnCompleted,
    TurnError,
    TurnEvent,
    TurnRequest,
    TurnResult,
    default_state_dir,
)
from codex_lsp.model import ConfigRequest, ModelClient, ModelError, load_permissions

__all__ = ["EventPrinter", "run_exec", "run_threads"]

EXIT_CODES = {"completed": 0, "failed": 1, "interrupted": 130}
MAX_FILES_LISTED = 10
"""A patch note names this many files, then says how many more."""
MAX_NOTE_CHARS = 300


class EventPrinter:
    """Renders turn events for a terminal: agent text on ``out``, the rest on ``err``."""

    def __init__(self, out: TextIO, err: TextIO) -> None:
        self.out, self.err = out, err
        self._mid_line = False

    def __call__(self, event: TurnEvent) -> None:
        if isinstance(event, AgentMessageDelta):
            self.out.write(event.delta)
            self.out.flush()
            self._mid_line = not event.delta.endswith("\n")
        elif isinstance(event, ItemCompleted) and isinstance(event.item, AgentMessageItem):
            self._end_line()
        elif (
            isinstance(event, ItemCompleted) and isinstance(event.item, ReasoningItem) and event.item.summary
        ):
            self._note(f"thinking: {event.item.summary}")
        elif isinstance(event, ItemCompleted) and isinstance(event.item, FileChangeItem):
            self._note(_describe_patch(event.item))
        elif isinstance(event, CommandStarted):
            self._note(f"$ {shlex.join(event.command)}" + ("  (sandboxed)" if event.sandboxed else ""))
        elif isinstance(event, CommandFinished) and event.status == "declined":
            self._note("declined")
        elif isinstance(event, CommandFinished):
            self._note(f"{event.status}: exit {event.exit_code} in {event.duration_seconds:.1f}s")
        elif isinstance(event, PlanUpdated):
            marks = {"completed": "x", "in_progress": ">", "pending": " "}
            self._note("plan:\n" + "\n".join(f"  [{marks[s.status]}] {s.step}" for s in event.plan))
        elif isinstance(event, TransportNotice):
            self._note(event.message)
        elif isinstance(event, TurnCompleted) and event.status != "completed":
            self._note(f"turn {event.status}" + (f": {event.error}" if event.error else ""))

    def warning(self, text: str) -> None:
        """A problem that does not stop the turn (e.g. threads cannot be saved)."""
        self._note(f"warning: {text}")

    def _end_line(self) -> None:
        if self._mid_line:
            self.out.write("\n")
            self.out.flush()
            self._mid_line = False

    def _note(self, text: str) -> None:
        self._end_line()
        self.err.write(f"[codex] {text}\n")
        self.err.flush()


def _describe_patch(item: FileChangeItem) -> str:
    """One line: what the patch did to which files, or why it was refused."""
    message = _one_line(item.message)
    if item.status == "failed" and not item.changes:
        return f"patch refused: {message}"
    marks = {"add": "A", "update": "M", "delete": "D", "move": "R"}
    shown = [
        f"{marks[c.kind]} {c.path}" + (f" -> {c.move_to}" if c.move_to else "")
        for c in item.changes[:MAX_FILES_LISTED]
    ]
    if len(item.changes) > MAX_FILES_LISTED:
        shown.append(f"and {len(item.changes) - MAX_FILES_LISTED} more files")
    verb = {"applied": "patched", "held": "proposed", "failed": "patch failed"}.get(item.status, item.status)
    return f"{verb}: {', '.join(shown)}" + (f" ({message})" if message else "")


def _one_line(text: str) -> str:
    """The first line of ``text``, cut to :data:`MAX_NOTE_CHARS` (engine errors can be long)."""
    first = text.strip().split("\n", 1)[0]
    return first if len(first) <= MAX_NOTE_CHARS else first[: MAX_NOTE_CHARS - 1] + "…"


@contextlib.contextmanager
def _interrupt_on_sigint(agent: Agent, turn: asyncio.Future[TurnResult]) -> Iterator[None]:
    """While the block runs, Ctrl-C interrupts the turn — at once, even mid synchronous work.

    A Python signal handler runs between two bytecodes of whatever the main thread is doing, so
    the turn's task is marked cancelled before it can take another step (``loop.add_signal_handler``
    only queues the callback for a later loop iteration: a turn busy writing a large patch would
    send its next model request first). The turn loop's checkpoints then stop it. Cancelling a task
    from a signal handler is what ``asyncio.run`` itself does for Ctrl-C.
    """
    loop = asyncio.get_running_loop()

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        if not agent.interrupt():
            turn.cancel()  # no turn registered yet (or any more): stop the request itself
        loop.call_soon_threadsafe(_wake)

    try:
        previous = signal.signal(signal.SIGINT, on_sigint)
    except ValueError:  # not the main thread: no Ctrl-C to handle
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _wake() -> None:
    """Nothing: scheduling it wakes the event loop from its wait."""


async def run_exec(
    prompt: str,
    *,
    cd: Path,
    dry_run: bool = False,
    model: str | None = None,
    thread_id: str | None = None,
    settings: AgentSettings | None = None,
    config: ConfigRequest | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run one turn on ``cd`` and return the exit status; ``config`` says which profile, overrides and
    flags to lay over ``$CODEX_HOME`` (the project layers are ``cd``'s). The configuration's sandbox,
    shell environment and approval policies are laid over ``settings``."""
    out, err = out or sys.stdout, err or sys.stderr
    asked = config or ConfigRequest(cwd=cd)
    try:
        client = ModelClient.from_codex_home(request=asked)
        settings = (settings or AgentSettings()).configured(load_permissions(request=asked))
    except (ModelError, ValueError) as exc:
        err.write(f"codex-lsp exec: {exc}\n")
        return 1
    for warning in client.settings.config_warnings:
        err.write(f"warning: {warning}\n")
    workspace = LocalWorkspace(cd)
    applier = DryRunApplier(workspace) if dry_run else DiskApplier(workspace)
    printer = EventPrinter(out, err)
    async with client:
        agent = Agent(
            client=client,
            workspace=workspace,
            approver=TerminalApprover(),
            applier=applier,
            emit=printer,
            settings=settings,
            store=ThreadStore(default_state_dir(), on_warning=printer.warning),
        )
        request = TurnRequest(prompt=prompt, model=model, thread_id=thread_id)
        task = asyncio.ensure_future(agent.run_turn(request))
        try:
            with _interrupt_on_sigint(agent, task):
                result = await task
        except ThreadNotFoundError:
            err.write(f"codex-lsp exec: no saved thread {thread_id!r}; `codex-lsp threads` lists them\n")
            return 1
        except TurnError as exc:
            err.write(f"codex-lsp exec: {exc}\n")
            return 1
        except asyncio.CancelledError:
            # Interrupted before the turn started, or after it had decided how it ended.
            err.write("[codex] turn interrupted\n")
            return EXIT_CODES["interrupted"]
    if isinstance(applier, DryRunApplier):
        out.write(applier.diff())
    saved = agent.threads[result.thread_id].saved
    err.write(f"[codex] thread {result.thread_id}" + ("" if saved else " (not saved)") + "\n")
    return EXIT_CODES[result.status]


def run_threads(*, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """``codex-lsp threads``: the saved threads ``exec --thread`` can continue, newest first."""
    out, err = out or sys.stdout, err or sys.stderr
    store = ThreadStore(default_state_dir(), on_warning=EventPrinter(out, err).warning)
    summaries = store.list()
    if not summaries:
        err.write(f"no saved threads in {store.directory}\n")
        return 0
    for summary in summaries:
        created = time.strftime("%Y-%m-%d %H:%M", time.localtime(summary.created_at))
        title = summary.title.splitlines()[0] if summary.title.strip() else "(no prompt)"
        out.write(f"{summary.id}  {created}  {title}\n")
    return 0
