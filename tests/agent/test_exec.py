"""``codex-lsp exec`` as a real process against the fake Responses server."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import sys
from pathlib import Path

import pytest

from codex_lsp.testing import FakeResponsesServer, Script
from tests.agent.harness import call, patch_call, say

APP = "def greet(name):\n    return 'hello ' + nam\n"
FIX = (
    "*** Begin Patch\n*** Update File: app.py\n@@\n-    return 'hello ' + nam\n"
    "+    return 'hello ' + name\n*** End Patch"
)

AFTER_INTERRUPT_S = 10
"""How long exec may take to exit after Ctrl-C (it normally takes a fraction of a second)."""


def _codex_home(tmp_path: Path, base_url: str) -> Path:
    home = tmp_path / "codex-home"
    home.mkdir(exist_ok=True)
    (home / "config.toml").write_text(
        'model = "gpt-5.5"\nmodel_provider = "fake"\n'
        f'[model_providers.fake]\nbase_url = "{base_url}"\nenv_key = "FAKE_KEY"\n'
        "supports_websockets = true\nstream_max_retries = 1\nrequest_max_retries = 1\n"
    )
    return home


async def _spawn(
    tmp_path: Path,
    fake: FakeResponsesServer,
    *args: str,
    env: dict[str, str] | None = None,
    wrapper: tuple[str, ...] = (),
) -> asyncio.subprocess.Process:
    """Start ``codex-lsp exec --cd <tmp>/ws ARGS`` against ``fake``, with pipes for stdout and stderr
    (under ``wrapper``, e.g. ``setpriv …``, when given)."""
    environment = {
        **os.environ,
        "CODEX_HOME": str(_codex_home(tmp_path, fake.base_url)),
        "FAKE_KEY": "sk-exec-test",
        "CODEX_LSP_STATE_DIR": str(tmp_path / "state"),
        **(env or {}),
    }
    environment.pop("OPENAI_API_KEY", None)
    return await asyncio.create_subprocess_exec(
        *wrapper,
        sys.executable,
        "-m",
        "codex_lsp",
        "exec",
        "--cd",
        str(tmp_path / "ws"),
        "--skip-git-repo-check",
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=environment,
    )


async def _exec(
    tmp_path: Path,
    fake: FakeResponsesServer,
    *args: str,
    interrupt_after: str | None = None,
    env: dict[str, str] | None = None,
    wrapper: tuple[str, ...] = (),
) -> tuple[int, str, str]:
    process = await _spawn(tmp_path, fake, *args, env=env, wrapper=wrapper)
    assert process.stdout is not None
    out = b""
    if interrupt_after is not None:
        while interrupt_after.encode() not in out:
            chunk = await asyncio.wait_for(process.stdout.read(64), 30)
            assert chunk, f"exec ended before printing {interrupt_after!r}"
            out += chunk
        process.send_signal(signal.SIGINT)
    rest, err = await _finish(process, AFTER_INTERRUPT_S if interrupt_after else 60)
    assert process.returncode is not None
    return process.returncode, (out + rest).decode(), err.decode()


async def _finish(process: asyncio.subprocess.Process, deadline_s: float) -> tuple[bytes, bytes]:
    """The process's remaining output once it exits; kill it and fail if it has not within the deadline."""
    try:
        return await asyncio.wait_for(process.communicate(), deadline_s)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError(f"exec was still running {deadline_s} s later") from None


def _script(*steps: dict[str, object]) -> Script:
    return Script.model_validate({"turns": [{"requests": list(steps)}]})


async def test_exec_streams_the_answer_and_writes_the_patch(tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "app.py").write_text(APP)
    script = _script(
        {"output": [call("read_file", path="app.py")]},
        {"output": [patch_call(FIX)]},
        {"output": [say("Fixed the typo in greet.")]},
    )
    async with FakeResponsesServer(script) as fake:
        code, out, err = await _exec(tmp_path, fake, "fix the typo")
    assert code == 0, err
    assert out == "Fixed the typo in greet.\n"
    assert "[codex] patched: M app.py" in err
    assert (tmp_path / "ws" / "app.py").read_text() == APP.replace("+ nam\n", "+ name\n")
    assert "sk-exec-test" not in out + err


async def test_exec_dry_run_prints_the_diff_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "app.py").write_text(APP)
    script = _script({"output": [patch_call(FIX)]}, {"output": [say("Done.")]})
    async with FakeResponsesServer(script) as fake:
        code, out, err = await _exec(tmp_path, fake, "--dry-run", "fix the typo")
    assert code == 0, err
    assert out.startswith("Done.\ndiff --git a/app.py b/app.py\n")
    assert "-    return 'hello ' + nam\n+    return 'hello ' + name\n" in out
    assert (tmp_path / "ws" / "app.py").read_text() == APP
    assert "[codex] patched: M app.py (dry run: nothing was written to disk)\n" in err


async def test_exec_exits_1_on_a_fatal_model_error(tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    script = _script({"output": [say("x")], "fault": {"kind": "failed", "code": "context_length_exceeded"}})
    async with FakeResponsesServer(script) as fake:
        code, _, err = await _exec(tmp_path, fake, "hello")
    assert code == 1
    assert "turn failed" in err


async def test_exec_ctrl_c_interrupts_the_turn_with_status_130(tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    script = _script({"output": [say("thinking hard")], "fault": {"kind": "silence", "after_events": 6}})
    async with FakeResponsesServer(script) as fake:
        code, out, err = await _exec(tmp_path, fake, "hello", interrupt_after="thin")
    assert code == 130, err
    assert out.startswith("thin")
    assert "turn interrupted" in err


async def test_exec_ctrl_c_during_a_large_patch_stops_the_turn_over_websocket(tmp_path: Path) -> None:
    """Ctrl-C while a big patch is being written: exit 130, all files or none, no next request.

    The write is synchronous, so the signal is handled only once it is done; an interrupt that
    waited for the event loop came after the turn had already sent its follow-up request.
    """
    files = 2000
    patch = "*** Begin Patch\n" + "".join(f"*** Add File: f{i:04d}.txt\n+x\n" for i in range(files))
    (tmp_path / "ws").mkdir()
    script = _script(
        {"output": [patch_call(patch + "*** End Patch")], "chunk_size": 1 << 20},
        {"output": [say("all done")]},
    )
    async with FakeResponsesServer(script) as fake:
        process = await _spawn(tmp_path, fake, "add the files")
        async with asyncio.timeout(60):
            # Only polling can see a file appear; nothing else signals it.
            while not any(path.name.startswith("f") for path in (tmp_path / "ws").iterdir()):  # noqa: ASYNC110
                await asyncio.sleep(0.001)
        process.send_signal(signal.SIGINT)
        _, err = await _finish(process, AFTER_INTERRUPT_S)
        generating = fake.generating_requests()
    assert process.returncode == 130, err.decode()[-2000:]
    assert len(generating) == 1, "the turn sent a model request after the interrupt"
    names = sorted(path.name for path in (tmp_path / "ws").iterdir())
    assert names in ([], [f"f{i:04d}.txt" for i in range(files)]), "the patch was applied in part"
    assert "turn interrupted" in err.decode()


def _without_root_powers() -> tuple[str, ...]:
    """A command prefix under which file permissions apply to us even when we run as root."""
    if os.geteuid() != 0:
        return ()
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: a read-only directory cannot be made to refuse us")
    return (setpriv, "--bounding-set=-dac_override,-dac_read_search,-fowner")


@pytest.mark.parametrize("broken", ["a file", "a read-only directory"])
async def test_exec_runs_the_turn_unsaved_when_the_state_dir_cannot_be_written(
    tmp_path: Path, broken: str
) -> None:
    (tmp_path / "ws").mkdir()
    state = tmp_path / "state"
    wrapper: tuple[str, ...] = ()
    if broken == "a file":
        state.write_text("not a directory\n")
    else:
        state.mkdir(mode=0o555)
        wrapper = _without_root_powers()
    script = _script({"output": [say("still answering")]})
    async with FakeResponsesServer(script) as fake:
        code, out, err = await _exec(tmp_path, fake, "hello", wrapper=wrapper)
    assert code == 0, err
    assert out == "still answering\n"
    assert "Traceback" not in err
    (warning,) = [line for line in err.splitlines() if "warning" in line]
    assert warning.startswith(f"[codex] warning: cannot save threads in {state / 'threads'} (")
    reason = "Not a directory" if broken == "a file" else "Permission denied"
    assert reason in warning
    assert "kept in memory only" in warning
    assert re.search(r"^\[codex\] thread [0-9a-f-]+ \(not saved\)$", err, re.MULTILINE)


async def test_exec_unknown_thread_points_to_the_threads_command(tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    async with FakeResponsesServer(_script({"output": [say("x")]})) as fake:
        code, _, err = await _exec(tmp_path, fake, "--thread", "no-such-thread", "hello")
        assert fake.generating_requests() == []
    assert code == 1
    assert err == "codex-lsp exec: no saved thread 'no-such-thread'; `codex-lsp threads` lists them\n"


async def test_threads_lists_what_exec_saved(tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    script = _script({"output": [say("one")]}, {"output": [say("two")]})
    async with FakeResponsesServer(script) as fake:
        _, _, first = await _exec(tmp_path, fake, "first prompt\nsecond line")
        _, _, second = await _exec(tmp_path, fake, "another task")
    ids = [re.findall(r"\[codex\] thread (\S+)", err)[0] for err in (first, second)]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "codex_lsp",
        "threads",
        env={**os.environ, "CODEX_LSP_STATE_DIR": str(tmp_path / "state")},
        stdout=asyncio.subprocess.PIPE,
    )
    listing, _ = await _finish(process, 60)
    assert process.returncode == 0
    lines = listing.decode().splitlines()
    assert [line.split("  ")[0] for line in lines] == ids[::-1], "newest first"
    assert re.fullmatch(rf"{ids[0]}  \d{{4}}-\d\d-\d\d \d\d:\d\d  first prompt", lines[1])
    assert lines[0].endswith("  another task")


async def test_exec_reports_each_refused_patch_on_one_line(tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "app.py").write_text(APP)
    (tmp_path / "ws" / "twice.py").write_text("x = 1\n\nx = 1\n")
    escape = "*** Begin Patch\n*** Add File: ../outside.txt\n+no\n*** End Patch"
    ambiguous = "*** Begin Patch\n*** Update File: twice.py\n@@\n-x = 1\n+x = 2\n*** End Patch"
    no_match = FIX.replace("+ nam\n", "+ naam\n")
    script = _script(
        {"output": [patch_call(escape)]},
        {"output": [patch_call(ambiguous)]},
        {"output": [patch_call(no_match)]},
        {"output": [say("I give up.")]},
    )
    async with FakeResponsesServer(script) as fake:
        code, out, err = await _exec(tmp_path, fake, "edit things")
    assert code == 0, err
    assert out == "I give up.\n"
    refusals = [line for line in err.splitlines() if line.startswith("[codex] patch refused: ")]
    assert len(refusals) == 3, err
    assert "../outside.txt" in refusals[0]
    assert "twice.py" in refusals[1]
    assert "ambiguous" in refusals[1]
    assert "app.py" in refusals[2]
    assert not (tmp_path / "outside.txt").exists()
    assert (tmp_path / "ws" / "twice.py").read_text() == "x = 1\n\nx = 1\n"


async def test_exec_prints_what_utf8_cannot_carry_escaped_and_the_thread_goes_on(tmp_path: Path) -> None:
    """Issue 15, item 4, in exec: the model streams a lone surrogate; the terminal gets it escaped, the
    turn completes, and the thread continues in a second exec."""
    (tmp_path / "ws").mkdir()
    script = Script.model_validate(
        {
            "turns": [
                {"requests": [{"output": [say("half \ud83d emoji")]}]},
                {"requests": [{"output": [say("again")]}]},
            ]
        }
    )
    async with FakeResponsesServer(script) as fake:
        code, out, err = await _exec(tmp_path, fake, "say caf\udce9 in Latin-1")  # argv bytes not UTF-8
        assert code == 0, err
        assert out == "half \\ud83d emoji\n"
        thread_id = re.findall(r"\[codex\] thread (\S+)", err)[-1]
        code, out, err = await _exec(tmp_path, fake, "--thread", thread_id, "and again")
    assert code == 0, err
    assert out == "again\n"
