"""``codex-lsp exec``: one agent turn on a folder, from the terminal, without an editor.

The same agent as in the editor, with the disk as its workspace and the terminal as its approver:
the agent's text streams to stdout as it arrives, everything else (patches, commands, retries)
is reported on stderr, and patches are written atomically — or, with ``--dry-run``, kept in
memory and printed as one diff at the end. Exit status: 0 completed, 1 failed, 130 interrupted.

What ``codex exec`` does around the turn, exec does too, in its words: it refuses a folder outside a Git
repository unless ``--skip-git-repo-check`` (:func:`git_repo_root`); ``--json`` prints the events as Codex's
JSON Lines instead (:mod:`codex_lsp.exec_jsonl`); ``-o FILE`` receives the last agent message when the turn
completes; ``--ephemeral`` saves no thread; ``--oss`` runs a local model (:mod:`codex_lsp.local_models`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import io
import shlex
import signal
import sys
import time
from collections.abc import Callable, Iterator
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
from codex_lsp.exec_jsonl import JsonlPrinter
from codex_lsp.local_models import (
    DEFAULT_OSS_MODELS,
    LocalModelError,
    check_local_server,
    oss_provider,
    with_local_base_url,
)
from codex_lsp.model import (
    ConfigRequest,
    ModelClient,
    ModelError,
    ModelSettings,
    codex_home,
    load_config,
    load_permissions,
    load_settings,
)

__all__ = ["NOT_IN_A_REPOSITORY", "EventPrinter", "git_repo_root", "run_exec", "run_threads"]

EXIT_CODES = {"completed": 0, "failed": 1, "interrupted": 130}
MAX_FILES_LISTED = 10
"""A patch note names this many files, then says how many more."""
MAX_NOTE_CHARS = 300
NOT_IN_A_REPOSITORY = "Not inside a trusted directory and --skip-git-repo-check was not specified."
"""Codex's words when exec runs outside a Git repository (trusting the folder does not change it)."""


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


def git_repo_root(folder: Path) -> Path | None:
    """The folder at or above ``folder`` where a Git repository starts, found as ``codex exec`` finds it
    (checked against the pinned Codex): a ``.git`` file (a worktree's or submodule's link, whatever it
    says) or a ``.git`` directory holding ``HEAD``; an empty ``.git`` directory does not count and the
    search goes on upwards. No ``git`` runs, and whether the folder is trusted does not matter."""
    start = folder.resolve()
    for directory in (start, *start.parents):
        dot_git = directory / ".git"
        if dot_git.is_file() or (dot_git / "HEAD").exists():
            return directory
    return None


def _oss_request(request: ConfigRequest, local_provider: str | None) -> ConfigRequest:
    """``request`` with the local provider ``--oss`` selects, and its default model unless ``-m`` names
    one, laid over the configuration as flags."""
    _, layered = load_config(
        codex_home(),
        profile=request.profile,
        cwd=request.cwd,
        overrides=request.overrides,
        flags=request.flags,
    )
    provider = oss_provider(local_provider, layered.merged)
    flags = {**request.flags, "model_provider": provider}
    if flags.get("model") is None:
        flags["model"] = DEFAULT_OSS_MODELS.get(provider)
    return dataclasses.replace(request, flags=flags)


async def _model_settings(request: ConfigRequest, oss: bool, local_provider: str | None) -> ModelSettings:
    """The model configuration exec runs with; for ``--oss``, after checking that the local server answers."""
    if oss:
        request = _oss_request(request, local_provider)
    settings = with_local_base_url(load_settings(request=request))
    if oss:
        await check_local_server(settings)
    return settings


def _open_last_message(path: Path) -> str | None:
    """Create ``-o``'s file if it does not exist (an existing one keeps its text until the turn completes),
    as Codex does before the turn; the error, in Codex's words, when that fails."""
    try:
        with path.open("a", encoding="utf-8"):
            pass
    except OSError as exc:
        return f'Failed to open last message file "{path}": {exc.strerror} (os error {exc.errno})'
    return None


def _write_last_message(path: Path, result: TurnResult, notes: EventPrinter) -> None:
    """``-o``: a completed turn's last agent message, as is (no newline added); an empty file, with Codex's
    warning, when the turn said nothing."""
    try:
        path.write_text(result.message, encoding="utf-8")
    except OSError as exc:
        notes.warning(f'cannot write the last message to "{path}": {exc.strerror}')
        return
    if not result.message:
        notes.warning(f"no last agent message; wrote empty content to {path}")


async def run_exec(
    prompt: str,
    *,
    cd: Path,
    dry_run: bool = False,
    model: str | None = None,
    thread_id: str | None = None,
    settings: AgentSettings | None = None,
    config: ConfigRequest | None = None,
    json_events: bool = False,
    last_message: Path | None = None,
    ephemeral: bool = False,
    skip_git_repo_check: bool = False,
    oss: bool = False,
    local_provider: str | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run one turn on ``cd`` and return the exit status; ``config`` says which profile, overrides and
    flags to lay over ``$CODEX_HOME`` (the project layers are ``cd``'s). ``json_events`` prints Codex's
    JSON Lines on ``out`` instead of the text; ``last_message`` receives the final message of a completed
    turn; ``ephemeral`` keeps the thread in memory only; ``oss`` runs the local provider. The
    configuration's sandbox, shell environment and approval policies are laid over ``settings``."""
    out, err = _lenient(out or sys.stdout), _lenient(err or sys.stderr)
    if not skip_git_repo_check and git_repo_root(cd) is None:
        err.write(f"codex-lsp exec: {NOT_IN_A_REPOSITORY}\n")
        return 1
    if last_message is not None and (problem := _open_last_message(last_message)) is not None:
        err.write(f"codex-lsp exec: {problem}\n")
        return 1
    asked = config or ConfigRequest(cwd=cd)
    try:
        model_settings = await _model_settings(asked, oss, local_provider)
        settings = (settings or AgentSettings()).configured(load_permissions(request=asked))
    except (ModelError, ValueError, LocalModelError) as exc:
        err.write(f"codex-lsp exec: {exc}\n")
        return 1
    client = ModelClient(model_settings)
    workspace = LocalWorkspace(cd)
    notes = EventPrinter(out, err)
    if json_events:
        emit: Callable[[TurnEvent], None] = JsonlPrinter(out, workspace.root, model_settings.config_warnings)
    else:
        emit = notes
        for warning in model_settings.config_warnings:
            err.write(f"warning: {warning}\n")
    applier = DryRunApplier(workspace) if dry_run else DiskApplier(workspace)
    store = ThreadStore(None) if ephemeral else ThreadStore(default_state_dir(), on_warning=notes.warning)
    async with client:
        agent = Agent(
            client=client,
            workspace=workspace,
            approver=TerminalApprover(),
            applier=applier,
            emit=emit,
            settings=settings,
            store=store,
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
        # With --json, stdout holds the events and nothing else.
        (err if json_events else out).write(applier.diff())
    if last_message is not None and result.status == "completed":
        _write_last_message(last_message, result, notes)
    if not json_events:
        saved = agent.threads[result.thread_id].saved
        err.write(f"[codex] thread {result.thread_id}" + ("" if saved else " (not saved)") + "\n")
    return EXIT_CODES[result.status]


def run_threads(*, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """``codex-lsp threads``: the saved threads ``exec --thread`` can continue, newest first."""
    out, err = _lenient(out or sys.stdout), _lenient(err or sys.stderr)
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


def _lenient(stream: TextIO) -> TextIO:
    """``stream``, writing what its encoding cannot carry (a lone surrogate the model sent, a file name
    that is not UTF-8) as a backslash escape instead of failing the turn."""
    if isinstance(stream, io.TextIOWrapper):
        stream.reconfigure(errors="backslashreplace")
    return stream
