"""The server's life: shutdown and exit with a turn running, the editor dying, stdin closing, the
key in no log line, and a start-up that loads nothing the first turn does not need."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcRequestCancelled

from codex_lsp.testing import FakeResponsesServer
from tests.lsp.harness import (
    KEY,
    Editor,
    call,
    editor_session,
    eventually,
    load,
    patch,
    say,
    served,
    silent_before_completion,
)

pytestmark = [
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning"),
]

SHUTDOWN_ANSWER = 1.5
"""The contract (``codex_lsp.lsp.features.lifecycle.SHUTDOWN_GRACE``, issue 18): ``shutdown`` is answered
within 1.5 s even with a turn running — editors wait about 2 s for the answer, then kill the server."""
MARGIN = 0.5
"""For the answer to cross the pipe on a loaded machine; still inside the editors' 2 s."""

MARK = "3017"
"""A ``sleep`` duration no other process on the machine uses: its presence marks our child."""


def children_alive() -> list[str]:
    """Command lines of ``sleep MARK`` processes still running."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"sleep" in argv[0] and MARK.encode() in argv:
            found.append(" ".join(a.decode(errors="replace") for a in argv))
    return found


def stuck_step() -> dict[str, Any]:
    return silent_before_completion({"output": [{"type": "message", "text": "thinking hard"}]})


async def server_exit(ed: Editor, seconds: float = 10) -> int:
    process = ed.client._server
    assert process is not None
    async with asyncio.timeout(seconds):
        return await process.wait()


async def stream_silent(fake: FakeResponsesServer, mark: int) -> None:
    """The stuck response has been sent up to its silence."""
    await served(fake, lambda: any(e["type"] == "response.output_item.done" for _, e in fake.emitted[mark:]))


async def test_shutdown_interrupts_a_running_turn(tmp_path: Path, fake: FakeResponsesServer) -> None:
    async with editor_session(tmp_path, fake, "vscode") as ed:
        load(fake, [stuck_step()])
        mark = len(fake.emitted)
        turn = asyncio.ensure_future(ed.execute("codex.ask", {"prompt": "think"}))
        await stream_silent(fake, mark)
        async with asyncio.timeout(SHUTDOWN_ANSWER + MARGIN):
            await ed.client.shutdown_async(None)
        async with asyncio.timeout(MARGIN):  # answered before shutdown was: the turn ended first
            result = await turn
        assert result["status"] == "interrupted"
        ed.client.exit(None)
        assert await server_exit(ed) == 0


async def test_shutdown_answers_even_when_a_turn_outlives_the_grace(
    tmp_path: Path, fake: FakeResponsesServer
) -> None:
    """A turn waiting for an edit the editor never answers outlives ``shutdown``'s grace: the
    request is still pending when shutdown cancels it, and shutdown must still answer."""
    async with editor_session(tmp_path, fake, "neovim") as ed:
        ed.write("a.txt", "one\n")
        edit = "*** Begin Patch\n*** Update File: a.txt\n@@\n-one\n+two\n*** End Patch"
        load(fake, [patch(edit), say("never")])
        ed.apply_mode = "hold"
        turn = asyncio.ensure_future(ed.execute("codex.ask", {"prompt": "edit"}))
        await ed.until(ed.edit_arrived.is_set)
        async with asyncio.timeout(SHUTDOWN_ANSWER + MARGIN):
            await ed.client.shutdown_async(None)
        with pytest.raises(JsonRpcRequestCancelled):
            await turn
        ed.apply_mode = "refuse"
        ed.release.set()
        await ed.until(lambda: ed.answered == 1)  # the editor's own pending handler ends before it stops
        ed.client.exit(None)
        assert await server_exit(ed) == 0


async def test_exit_with_a_turn_running_leaves_no_child(tmp_path: Path, fake: FakeResponsesServer) -> None:
    options = {"shell": {"enabled": True, "allow": ["sleep"]}}
    async with editor_session(tmp_path, fake, "neovim", init_options=options) as ed:
        load(fake, [call("shell", {"command": ["sleep", MARK]})])
        turn = asyncio.ensure_future(ed.execute("codex.ask", {"prompt": "wait"}))
        await eventually(children_alive)
        ed.client.exit(None)  # no shutdown first
        assert await server_exit(ed) == 1
        turn.cancel()
        # Killed with the server (its group, and the sandbox dies with its parent); on a loaded machine
        # the kill may land a moment after the server's exit status is read.
        await eventually(lambda: children_alive() == [], seconds=5)


async def test_the_server_ends_when_the_editor_process_dies(
    tmp_path: Path, fake: FakeResponsesServer
) -> None:
    parent = await asyncio.create_subprocess_exec(sys.executable, "-c", "import time; time.sleep(60)")
    try:
        async with editor_session(tmp_path, fake, "minimal", process_id=parent.pid) as ed:
            load(fake, [stuck_step()])
            mark = len(fake.emitted)
            turn = asyncio.ensure_future(ed.execute("codex.ask", {"prompt": "think"}))
            await stream_silent(fake, mark)
            parent.kill()
            await parent.wait()
            assert await server_exit(ed) == 0
            turn.cancel()
    finally:
        if parent.returncode is None:
            parent.kill()


async def test_the_server_ends_when_stdin_closes(tmp_path: Path, fake: FakeResponsesServer) -> None:
    async with editor_session(tmp_path, fake, "vscode") as ed:
        load(fake, [stuck_step()])
        mark = len(fake.emitted)
        turn = asyncio.ensure_future(ed.execute("codex.ask", {"prompt": "think"}))
        await stream_silent(fake, mark)
        process = ed.client._server
        assert process is not None
        assert process.stdin is not None
        process.stdin.close()
        await server_exit(ed)
        turn.cancel()


async def test_the_key_is_in_no_log_line(tmp_path: Path, fake: FakeResponsesServer) -> None:
    log = tmp_path / "server.log"
    command = [
        "sh",
        "-c",
        f'exec "{sys.executable}" -m codex_lsp.lsp --stdio --log-level DEBUG 2>"{log}"',
    ]
    async with editor_session(tmp_path, fake, "vscode", command=command) as ed:
        ed.write("k.txt", "x\n")
        load(fake, [call("read_file", {"path": "k.txt"}), say("done")])
        result = await ed.execute("codex.ask", {"prompt": "read"})
        assert result["status"] == "completed"
        await ed.execute("codex.status")
        received = ed.everything_received()
    text = log.read_text(encoding="utf-8", errors="replace")
    assert "authorization: " in text, "the log is at debug level and shows the (masked) header"
    assert KEY not in text
    assert KEY not in received


async def test_start_up_loads_no_agent_model_or_patch_code() -> None:
    """Serving ``initialize`` must cost what a bare pygls server costs."""
    probe = (
        "import sys; import codex_lsp.lsp.server as s; s.build_server(); "
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'httpx', 'websockets') "
        "or m.startswith(('codex_lsp.agent', 'codex_lsp.model', 'codex_lsp.patch', 'codex_lsp.lsp.host'))); "
        "print(heavy)"
    )
    process = await asyncio.create_subprocess_exec(sys.executable, "-c", probe, stdout=subprocess.PIPE)
    output, _ = await process.communicate()
    assert process.returncode == 0
    assert output.decode().strip() == "[]"


async def test_initialize_answers_without_loading_the_agent(
    tmp_path: Path, fake: FakeResponsesServer
) -> None:
    """The agent loads after ``initialize`` (in the background), so a status request still works."""
    async with editor_session(tmp_path, fake, "minimal") as ed:
        assert ed.init_result is not None
        commands = ed.init_result.capabilities.execute_command_provider
        assert commands is not None
        assert sorted(commands.commands) == sorted(
            [
                "codex.ask",
                "codex.fixDiagnostics",
                "codex.interrupt",
                "codex.threads",
                "codex.newThread",
                "codex.status",
                "codex.proposals",
                "codex.acceptHunk",
                "codex.rejectHunk",
                "codex.applyProposal",
                "codex.discardProposal",
                "codex.showProposal",
                "codex.previewProposal",
                "codex.account",
                "codex.login",
                "codex.logout",
            ]
        )
        assert ed.init_result.capabilities.code_lens_provider is not None
        actions = ed.init_result.capabilities.code_action_provider
        assert isinstance(actions, types.CodeActionOptions)
        assert "source.fixAll" not in [str(k) for k in actions.code_action_kinds or []]
        assert (await ed.execute("codex.status"))["keyFound"] is True
    assert os.environ.get("CODEX_LSP_TEST_KEY") in (None, "")
