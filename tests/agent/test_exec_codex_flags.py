"""``codex-lsp exec``'s Codex flags as processes, side by side with the pinned ``codex exec`` where Codex can
run the case: the Git check, ``-o``, ``--ephemeral``, ``--oss``, and ``--json``'s stdout.

Each side gets its own fake Responses server and throwaway ``CODEX_HOME``. Codex's own behaviour in these
cases (recorded from 0.169.0, and asserted here whenever the case runs it): outside a Git repository it says
"Not inside a trusted directory and --skip-git-repo-check was not specified." and exits 1 before any
request, whether or not config.toml trusts the folder; ``-o`` creates a missing file when it starts, writes
the last agent message with no newline when the turn completes (empty, with a warning, when there was
none) and leaves the file alone when the turn fails or is interrupted; ``--ephemeral`` writes no session;
``--oss`` takes ``--local-provider`` or ``oss_provider``, checks the server (``GET /v1/models``; Ollama's
``/api/version``), sends ``gpt-oss:20b`` and no credential. Differences by design: codex-lsp's errors start
with ``codex-lsp exec:`` (Codex: ``Error:`` or nothing), Ctrl-C exits 130 (Codex: 1), and for ``--oss``
codex-lsp neither lists the server's models (``/api/tags``) nor downloads a missing one.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from codex_lsp.headless import NOT_IN_A_REPOSITORY
from codex_lsp.local_models import LMSTUDIO_DOWN, NO_PROVIDER, OLLAMA_DOWN
from codex_lsp.testing import (
    FakeResponsesServer,
    Script,
    clean_env,
    codex_binary,
    make_codex_home,
    write_chatgpt_auth,
)
from tests.agent.exec_process import Run, ours_exec, state_dir
from tests.model.codex_peer import codex_exec, needs_codex

PROMPT = "do the task"
AFTER_INTERRUPT_S = 10


def script(*steps: dict[str, Any]) -> Script:
    return Script.model_validate({"turns": [{"requests": list(steps)}]})


def say(text: str, phase: str = "final_answer") -> dict[str, Any]:
    return {"type": "message", "text": text, "phase": phase}


ADD = {
    "type": "custom_tool_call",
    "name": "apply_patch",
    "input": "*** Begin Patch\n*** Add File: n.txt\n+n\n*** End Patch\n",
}
FAILS = {"output": [say("x")], "fault": {"kind": "failed", "code": "context_length_exceeded"}}


async def codex_plain(home: Path, cwd: Path, *args: str, env: dict[str, str] | None = None) -> Run:
    """``codex exec --json ARGS PROMPT`` without the test helper's ``--skip-git-repo-check``."""
    process = await asyncio.create_subprocess_exec(
        str(codex_binary()),
        "exec",
        "--json",
        "-c",
        'approval_policy="never"',
        *args,
        PROMPT,
        cwd=cwd,
        env={**clean_env(home), **(env or {})},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 90)
    return Run(process.returncode or 0, out.decode(), err.decode(errors="replace"))


async def both(
    tmp_path: Path,
    steps: list[dict[str, Any]],
    layout: Callable[[Path, Path], Path],
    codex: Callable[[Path, Path], Awaitable[Run]],
    ours: Callable[[Path, Path], Awaitable[Run]],
) -> dict[str, tuple[Run, FakeResponsesServer, Path]]:
    """Run Codex and codex-lsp on the same ``layout(root, home)`` (it returns the folder to run in), each with
    its own fake server playing ``steps``; their runs, servers and folders."""
    runs = {}
    for peer, run in (("codex", codex), ("ours", ours)):
        root = tmp_path / peer
        root.mkdir()
        async with FakeResponsesServer(script(*steps)) as fake:
            home = make_codex_home(root, fake.base_url, websockets=False)
            folder = layout(root, home)
            runs[peer] = (await run(home, folder), fake, folder)
    return runs


# -- the Git check -----------------------------------------------------------------------------------------


def plain(root: Path, home: Path) -> Path:
    (root / "work").mkdir()
    return root / "work"


def trusted_plain(root: Path, home: Path) -> Path:
    folder = plain(root, home)
    with (home / "config.toml").open("a") as config:
        config.write(f'\n[projects."{folder}"]\ntrust_level = "trusted"\n')
    return folder


def repo_subfolder(root: Path, home: Path) -> Path:
    subprocess.run(["git", "init", "-q", str(root / "repo")], check=True)
    (root / "repo" / "src" / "pkg").mkdir(parents=True)
    return root / "repo" / "src" / "pkg"


def worktree_link(root: Path, home: Path) -> Path:
    folder = plain(root, home)
    (folder / ".git").write_text("gitdir: /elsewhere/.git/worktrees/work\n")
    return folder


def empty_dot_git(root: Path, home: Path) -> Path:
    folder = plain(root, home)
    (folder / ".git").mkdir()
    return folder


@needs_codex
@pytest.mark.parametrize(
    ("layout", "inside"),
    [
        (plain, False),
        (trusted_plain, False),
        (empty_dot_git, False),
        (repo_subfolder, True),
        (worktree_link, True),
    ],
    ids=lambda v: getattr(v, "__name__", str(v)),
)
async def test_the_git_check_refuses_and_allows_as_codexs_does(
    tmp_path: Path, layout: Callable[[Path, Path], Path], inside: bool
) -> None:
    runs = await both(
        tmp_path,
        [{"output": [say("ran")]}],
        layout,
        codex_plain,
        lambda home, cwd: ours_exec(home, cwd, PROMPT),
    )
    (codex, codex_fake, _), (ours, our_fake, _) = runs["codex"], runs["ours"]
    assert ours.code == codex.code == (0 if inside else 1), (codex.stderr[-1000:], ours.stderr[-1000:])
    if inside:
        assert (
            [e["type"] for e in ours.events][-1] == [e["type"] for e in codex.events][-1] == "turn.completed"
        )
        return
    assert f"\n{NOT_IN_A_REPOSITORY}\n" in "\n" + codex.stderr
    assert ours.stderr == f"codex-lsp exec: {NOT_IN_A_REPOSITORY}\n"
    assert ours.stdout == codex.stdout == ""
    assert our_fake.requests == codex_fake.requests == []


async def test_skip_git_repo_check_runs_outside_a_repository(tmp_path: Path) -> None:
    async with FakeResponsesServer(script({"output": [say("ran")]})) as fake:
        home = make_codex_home(tmp_path, fake.base_url, websockets=False)
        run = await ours_exec(home, plain(tmp_path, home), PROMPT, "--skip-git-repo-check")
    assert run.code == 0, run.stderr
    assert run.events[-2]["item"]["text"] == "ran"


# -- -o / --output-last-message ----------------------------------------------------------------------------


def with_file(text: str | None) -> Callable[[Path, Path], Path]:
    """A plain folder, and ``last.txt`` next to it holding ``text`` (absent for ``None``)."""

    def layout(root: Path, home: Path) -> Path:
        if text is not None:
            (root / "last.txt").write_text(text)
        return plain(root, home)

    return layout


@needs_codex
@pytest.mark.parametrize(
    ("steps", "before", "after", "status"),
    [
        ([{"output": [say("Looking.", "commentary"), say("The answer.")]}], "old\n", "The answer.", 0),
        (
            [{"output": [say("Looking.", "commentary"), ADD]}, {"output": [say("Second.")]}],
            None,
            "Second.",
            0,
        ),
        ([{"output": [{"type": "reasoning", "summary": ["hm"]}]}], "old\n", "", 0),
        ([FAILS], "old\n", "old\n", 1),
        ([FAILS], None, "", 1),
    ],
    ids=["last-message", "created", "no-message", "failed-untouched", "failed-created-empty"],
)
async def test_output_last_message_is_written_as_codexs_is(
    tmp_path: Path, steps: list[dict[str, Any]], before: str | None, after: str, status: int
) -> None:
    def last(cwd: Path) -> str:
        return str(cwd.parent / "last.txt")

    runs = await both(
        tmp_path,
        steps,
        with_file(before),
        lambda home, cwd: _codex_run(home, cwd, "-o", last(cwd)),
        lambda home, cwd: ours_exec(home, cwd, PROMPT, "--skip-git-repo-check", "-o", last(cwd)),
    )
    for peer, (run, _, folder) in runs.items():
        assert run.code == status, (peer, run.stderr[-1000:])
        assert (folder.parent / "last.txt").read_text() == after, peer
    warning = "no last agent message; wrote empty content to"
    warned = {peer: warning in run.stderr for peer, (run, _, _) in runs.items()}
    assert warned == {"codex": status == 0 and after == "", "ours": status == 0 and after == ""}


async def _codex_run(home: Path, cwd: Path, *args: str) -> Run:
    code, events, err = await codex_exec(home, cwd, PROMPT, args=args)
    return Run(code, "".join(json.dumps(e) + "\n" for e in events), err)


async def test_output_last_message_that_cannot_be_opened_stops_exec_first(tmp_path: Path) -> None:
    async with FakeResponsesServer(script({"output": [say("ran")]})) as fake:
        home = make_codex_home(tmp_path, fake.base_url, websockets=False)
        target = tmp_path / "no-such-dir" / "last.txt"
        run = await ours_exec(home, plain(tmp_path, home), PROMPT, "--skip-git-repo-check", "-o", str(target))
        assert fake.requests == []
    assert run.code == 1
    assert run.stdout == ""
    why = "No such file or directory (os error 2)"
    assert run.stderr == f'codex-lsp exec: Failed to open last message file "{target}": {why}\n'


async def test_an_interrupted_turn_leaves_output_last_message_alone(tmp_path: Path) -> None:
    """The turn's first message is complete, then the model goes silent; Ctrl-C. The file keeps its text,
    then and after (it is written only when a turn completes)."""
    message_then_silence = {
        "output": [say("first", "commentary")],
        "fault": {"kind": "silence", "after_events": 8},
    }
    async with FakeResponsesServer(script(message_then_silence)) as fake:
        home = make_codex_home(tmp_path, fake.base_url, websockets=False)
        target = tmp_path / "last.txt"
        target.write_text("old\n")
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "codex_lsp",
            "exec",
            "--json",
            "--skip-git-repo-check",
            "-o",
            str(target),
            "--cd",
            str(plain(tmp_path, home)),
            PROMPT,
            env={**clean_env(home), "CODEX_LSP_STATE_DIR": str(state_dir(home))},
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        assert process.stdout is not None
        seen: list[dict[str, Any]] = []
        async with asyncio.timeout(30):
            while not seen or seen[-1].get("item", {}).get("text") != "first":
                line = await process.stdout.readline()
                assert line, "exec ended before the first message"
                seen.append(json.loads(line))
        assert target.read_text() == "old\n"
        process.send_signal(signal.SIGINT)
        rest, err = await asyncio.wait_for(process.communicate(), AFTER_INTERRUPT_S)
    assert process.returncode == 130, err.decode()[-1000:]
    assert target.read_text() == "old\n"
    assert rest == b"", "an interrupted turn prints no turn.completed / turn.failed"


# -- --json: stdout ----------------------------------------------------------------------------------------


def buffered(env: dict[str, str]) -> dict[str, str]:
    """``env`` without ``PYTHONUNBUFFERED``: stdout is then a block-buffered pipe, as for most users."""
    return {name: value for name, value in env.items() if name != "PYTHONUNBUFFERED"}


async def test_json_lines_arrive_as_they_happen_and_stdout_holds_nothing_else(tmp_path: Path) -> None:
    """The model goes silent mid-turn: every event so far must already be on stdout (a line that waited in
    a buffer would never come), each a JSON object; with ``--dry-run`` the diff goes to stderr. Then Ctrl-C:
    nothing more on stdout."""
    patch = "*** Begin Patch\n*** Add File: new.txt\n+hi\n*** End Patch\n"
    steps = (
        {"output": [{"type": "custom_tool_call", "name": "apply_patch", "input": patch}]},
        {"output": [say("half", "commentary")], "fault": {"kind": "silence", "after_events": 8}},
    )
    async with FakeResponsesServer(script(*steps)) as fake:
        home = make_codex_home(tmp_path, fake.base_url, websockets=False)
        work = plain(tmp_path, home)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "codex_lsp",
            "exec",
            "--json",
            "--dry-run",
            "--skip-git-repo-check",
            "--cd",
            str(work),
            PROMPT,
            env={**buffered(clean_env(home)), "CODEX_LSP_STATE_DIR": str(state_dir(home))},
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        assert process.stdout is not None
        events: list[dict[str, Any]] = []
        async with asyncio.timeout(30):
            while not events or events[-1].get("item", {}).get("text") != "half":
                events.append(json.loads(await process.stdout.readline()))
        process.send_signal(signal.SIGINT)
        rest, err = await asyncio.wait_for(process.communicate(), AFTER_INTERRUPT_S)
    assert process.returncode == 130, err.decode()[-1000:]
    assert [e["type"] for e in events] == [
        "thread.started",
        "turn.started",
        "item.started",
        "item.completed",
        "item.completed",
    ]
    assert rest == b""
    assert not (work / "new.txt").exists()
    assert "+hi" in err.decode()


# -- --ephemeral -------------------------------------------------------------------------------------------


async def _threads(home: Path) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "codex_lsp",
        "threads",
        env={**os.environ, "CODEX_LSP_STATE_DIR": str(state_dir(home))},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return out.decode() + err.decode()


@pytest.mark.parametrize("ephemeral", [True, False])
async def test_ephemeral_saves_no_thread(tmp_path: Path, ephemeral: bool) -> None:
    async with FakeResponsesServer(script({"output": [say("one")]})) as fake:
        home = make_codex_home(tmp_path, fake.base_url, websockets=False)
        args = ("--skip-git-repo-check", *(("--ephemeral",) if ephemeral else ()))
        run = await ours_exec(home, plain(tmp_path, home), PROMPT, *args)
    assert run.code == 0, run.stderr
    thread_id = run.events[0]["thread_id"]
    saved = sorted(path.name for path in (state_dir(home) / "threads").glob("*.jsonl"))
    listing = await _threads(home)
    if ephemeral:
        assert saved == []
        assert thread_id not in listing
        assert "no saved threads" in listing
    else:
        assert saved == [f"{thread_id}.jsonl"]
        assert listing.startswith(thread_id)


@needs_codex
async def test_codex_ephemeral_writes_no_session_either(tmp_path: Path) -> None:
    sessions = {}
    for ephemeral in (True, False):
        root = tmp_path / str(ephemeral)
        root.mkdir()
        async with FakeResponsesServer(script({"output": [say("one")]})) as fake:
            home = make_codex_home(root, fake.base_url, websockets=False)
            code, _, err = await codex_exec(
                home, plain(root, home), PROMPT, args=("--ephemeral",) * ephemeral
            )
        assert code == 0, err[-1000:]
        sessions[ephemeral] = list((home / "sessions").rglob("*.jsonl"))
    assert sessions[True] == []
    assert len(sessions[False]) == 1


# -- --oss -------------------------------------------------------------------------------------------------

OLLAMA_ROUTES = {
    "/v1/models": {"object": "list", "data": [{"id": "gpt-oss:20b", "object": "model"}]},
    "/api/version": {"version": "0.13.5"},
    "/api/tags": {"models": [{"name": "gpt-oss:20b", "model": "gpt-oss:20b"}]},
}
LEAKS = {"OPENAI_API_KEY": "sk-env-leak", "CODEX_API_KEY": "sk-codex-leak"}


def signed_in(root: Path, home: Path) -> Path:
    """A plain folder, the user signed in to ChatGPT in ``home`` (tokens the local server must not get)."""
    write_chatgpt_auth(home)
    return plain(root, home)


def no_secret_sent(fake: FakeResponsesServer, home: Path) -> None:
    tokens = json.loads((home / "auth.json").read_text())["tokens"]
    secrets = [*LEAKS.values(), tokens["access_token"], tokens["id_token"], "fake-key"]
    headers = [*(h for _, _, h in fake.attempts), *(h for _, h in fake.gets)]
    assert headers, "nothing reached the local server"
    for sent in headers:
        assert "authorization" not in sent
        assert "chatgpt-account-id" not in sent
        assert not any(secret in json.dumps(sent) for secret in secrets)


@needs_codex
async def test_oss_sends_the_local_default_model_and_no_credential_as_codex_does(tmp_path: Path) -> None:
    runs = {}
    for peer in ("codex", "ours"):
        root = tmp_path / peer
        root.mkdir()
        async with FakeResponsesServer(script({"output": [say("local hi")]})) as fake:
            fake.get_routes = dict(OLLAMA_ROUTES)
            home = make_codex_home(root, fake.base_url, websockets=False)
            folder = signed_in(root, home)
            env = {**LEAKS, "CODEX_OSS_BASE_URL": fake.base_url}
            args = ("--oss", "--local-provider", "ollama")
            if peer == "codex":
                code, _, err = await codex_exec(home, folder, PROMPT, env=env, args=args)
            else:
                run = await ours_exec(home, folder, PROMPT, "--skip-git-repo-check", *args, env=env)
                code, err = run.code, run.stderr
            assert code == 0, (peer, err[-1500:])
            no_secret_sent(fake, home)
            runs[peer] = fake
    (theirs,), (ours,) = runs["codex"].generating_requests(), runs["ours"].generating_requests()
    assert ours.body["model"] == theirs.body["model"] == "gpt-oss:20b"
    assert ours.path == theirs.path == "/v1/responses"
    codex_gets = [path for path, _ in runs["codex"].gets]
    our_gets = [path for path, _ in runs["ours"].gets]
    assert our_gets == ["/v1/models", "/api/version"] == codex_gets[:2]
    assert codex_gets[2:] == ["/api/tags"], "Codex then looks for the model (to download it)"


async def test_oss_takes_oss_provider_and_m_and_sends_no_credential(tmp_path: Path) -> None:
    async with FakeResponsesServer(script({"output": [say("studio hi")]})) as fake:
        fake.get_routes = {"/v1/models": OLLAMA_ROUTES["/v1/models"]}
        home = make_codex_home(tmp_path, fake.base_url, websockets=False, top='oss_provider = "lmstudio"')
        folder = signed_in(tmp_path, home)
        env = {**LEAKS, "CODEX_OSS_BASE_URL": fake.base_url}
        run = await ours_exec(home, folder, PROMPT, "--skip-git-repo-check", "--oss", "-m", "qwen3", env=env)
        assert run.code == 0, run.stderr
        (request,) = fake.generating_requests()
        assert request.body["model"] == "qwen3"
        assert [path for path, _ in fake.gets] == ["/v1/models"], "LM Studio has no version check"
        no_secret_sent(fake, home)
    assert run.events[-2]["item"]["text"] == "studio hi"


async def test_local_provider_alone_changes_nothing(tmp_path: Path) -> None:
    async with FakeResponsesServer(script({"output": [say("configured")]})) as fake:
        home = make_codex_home(tmp_path, fake.base_url, websockets=False)
        env = {"CODEX_OSS_BASE_URL": "http://127.0.0.1:9/v1"}
        run = await ours_exec(
            home,
            plain(tmp_path, home),
            PROMPT,
            "--skip-git-repo-check",
            "--local-provider",
            "ollama",
            env=env,
        )
        (request,) = fake.generating_requests()
    assert run.code == 0, run.stderr
    assert request.body["model"] == "gpt-5.5"
    assert request.headers["authorization"] == "Bearer fake-key"


@pytest.mark.parametrize(
    ("args", "routes", "message"),
    [
        (("--oss",), OLLAMA_ROUTES, NO_PROVIDER),
        (("--oss", "--local-provider", "ollama"), {}, OLLAMA_DOWN),
        (("--oss", "--local-provider", "lmstudio"), {}, LMSTUDIO_DOWN),
        (
            ("--oss", "--local-provider", "ollama"),
            {**OLLAMA_ROUTES, "/api/version": {"version": "0.12.0"}},
            "OSS setup failed: Ollama 0.12.0 is too old.",
        ),
    ],
    ids=["no-provider", "ollama-down", "lmstudio-down", "ollama-too-old"],
)
async def test_oss_stops_before_the_turn_when_the_local_model_cannot_run(
    tmp_path: Path, args: tuple[str, ...], routes: dict[str, Any], message: str
) -> None:
    async with FakeResponsesServer(script({"output": [say("x")]})) as fake:
        fake.get_routes = dict(routes)
        home = make_codex_home(tmp_path, fake.base_url, websockets=False)
        env = {"CODEX_OSS_BASE_URL": fake.base_url}
        run = await ours_exec(home, plain(tmp_path, home), PROMPT, "--skip-git-repo-check", *args, env=env)
        assert fake.requests == []
    assert run.code == 1
    assert run.stdout == ""
    assert run.stderr.startswith(f"codex-lsp exec: {message}")


@needs_codex
@pytest.mark.parametrize(
    ("args", "message"),
    [(("--oss",), NO_PROVIDER), (("--oss", "--local-provider", "ollama"), OLLAMA_DOWN)],
    ids=["no-provider", "ollama-down"],
)
async def test_oss_errors_are_codexs(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    async with FakeResponsesServer(script({"output": [say("x")]})) as fake:
        home = make_codex_home(tmp_path, fake.base_url, websockets=False)
        code, _, err = await codex_exec(
            home, plain(tmp_path, home), PROMPT, env={"CODEX_OSS_BASE_URL": fake.base_url}, args=args
        )
    assert code == 1
    assert message in err
