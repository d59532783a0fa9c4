"""Differential against the pinned Codex 0.169: the same ``$CODEX_HOME``, the same folder, the same
``-c`` settings; the model (the fake server) runs one command through each (Codex's ``exec_command``,
codex-lsp's ``shell``), and what the command saw or could do is compared.

- **Environment** under each ``[shell_environment_policy]`` shape, with and without network, read-only:
  ``env``'s output, equal except for what differs by design (:data:`CODEX_ADDS`, :data:`SHELL_ADDS`,
  :data:`SECRETS`, and Codex's helper folder at the head of ``PATH``).
- **Filesystem** under ``read-only``, ``workspace-write`` (``writable_roots``, ``exclude_slash_tmp``,
  ``exclude_tmpdir_env_var``, Codex's protected ``.git``/``.codex``) and ``danger-full-access``: which of
  a set of writes succeed.

Codex runs with ``approval_policy = "never"`` (as ``codex exec`` always does) and codex-lsp with the
command allow-listed, so neither asks.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codex_lsp.testing import FakeResponsesServer, Script, codex_binary, make_codex_home
from tests.agent.test_sandbox import needs_bwrap
from tests.model.codex_peer import clean_env, needs_codex

pytestmark = [
    needs_bwrap,
    needs_codex,
]

CODEX_ADDS = frozenset(
    {
        "CODEX_APPLY_PATCH_PRESERVE_LINE_ENDINGS",
        "CODEX_CI",
        "CODEX_PERMISSION_PROFILE",
        "CODEX_SESSION_ID",
        "CODEX_THREAD_ID",
        "CODEX_TOOL_CALL_ID",
        "CODEX_VERSION",
        "COLORTERM",
        "GH_PAGER",
        "GIT_PAGER",
        "LANG",
        "LC_ALL",
        "LC_CTYPE",
        "NO_COLOR",
        "PAGER",
        "TERM",
    }
)
"""What Codex's ``exec_command`` sets after the policy (its thread and call ids, a non-interactive
terminal: pagers off, ``TERM=dumb``, a UTF-8 locale). codex-lsp's ``shell`` runs the command as the
policy built its environment, nothing added but ``CODEX_SANDBOX_NETWORK_DISABLED``."""
SHELL_ADDS = frozenset({"PWD", "OLDPWD", "SHLVL", "_"})
"""Set by the shell Codex wraps every command in (``bash -c``) and by bubblewrap's ``--chdir``."""
SECRETS = frozenset({"FAKE_KEY"})
"""The provider's ``env_key``: Codex passes it to commands; codex-lsp never passes a configured secret."""

HOST_ENV = {
    "CLSP_PLAIN": "plain",
    "CLSP_API_KEY": "k",
    "clsp_token_lower": "t",
    "CLSP_SECRET_X": "s",
    "CLSP_KEYBOARD": "us",
    "CLSP_DROP_ME": "d",
    "CLSP_FOX": "f",
    "LOGNAME": "me",
    "USER": "me",
    "USERNAME": "me",
    "LANGUAGE": "en",
    "LC_MESSAGES": "C",
}


def _script(call: dict[str, Any]) -> Script:
    steps = [{"output": [call]}, {"output": [{"type": "message", "text": "done"}]}]
    return Script.model_validate({"turns": [{"requests": steps}]})


async def _run(argv: list[str], cwd: Path, env: dict[str, str]) -> None:
    process = await asyncio.create_subprocess_exec(
        *argv,
        cwd=cwd,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(process.communicate(), 90)
    assert process.returncode == 0, err.decode(errors="replace")


async def both(
    tmp_path: Path, script: str, overrides: tuple[str, ...], env: dict[str, str] | None = None
) -> tuple[str, str]:
    """Run ``script`` (``/bin/sh -c``) as the model's command under Codex and under codex-lsp, with the same
    home, folder, environment and ``-c`` overrides; what each command printed."""
    root = tmp_path / "ws"
    root.mkdir(exist_ok=True)
    printed: list[str] = []
    async with FakeResponsesServer() as fake:
        home = make_codex_home(tmp_path, fake.base_url, websockets=False)
        environment = {
            **clean_env(home),
            **HOST_ENV,
            "CODEX_LSP_STATE_DIR": str(tmp_path / "state"),
            **(env or {}),
        }
        settings = [arg for override in overrides for arg in ("-c", override)]
        # Absolute paths: under inherit = "none" there is no PATH to find them by.
        codex_call = {"cmd": f"/bin/sh -c {shlex.quote(script)}", "login": False}
        runs = [
            (
                {"type": "function_call", "name": "exec_command", "arguments": codex_call, "call_id": "c1"},
                [str(codex_binary()), "exec", "--skip-git-repo-check", "-c", 'approval_policy="never"'],
            ),
            (
                {
                    "type": "function_call",
                    "name": "shell",
                    "arguments": {"command": ["/bin/sh", "-c", script]},
                },
                [
                    sys.executable,
                    "-m",
                    "codex_lsp",
                    "exec",
                    "--skip-git-repo-check",
                    "--cd",
                    str(root),
                    "--shell",
                    "--allow",
                    "/bin/sh",
                ],
            ),
        ]
        for call, argv in runs:
            fake.load(_script(call))
            seen = len(fake.requests)
            await _run([*argv, *settings, "go"], root, environment)
            outputs = [
                str(item["output"])
                for request in fake.requests[seen:]
                for item in request.body.get("input") or []
                if item.get("type") == "function_call_output"
            ]
            assert outputs, f"{argv[0]} ran no command"
            printed.append(outputs[0].split("Output:\n", 1)[1])
    return printed[0], printed[1]


def environment(printed: str) -> dict[str, str]:
    """``env``'s output as a table, without what differs by design (and ``PATH`` without the folder of
    helper programs Codex puts first on it — creating ``PATH`` for it when the policy left none)."""
    pairs = dict(line.split("=", 1) for line in printed.splitlines() if "=" in line)
    entries = [entry for entry in pairs.pop("PATH", "").split(":") if entry and not _codex_helpers(entry)]
    if entries:
        pairs["PATH"] = ":".join(entries)
    return {k: v for k, v in pairs.items() if k not in CODEX_ADDS | SHELL_ADDS | SECRETS}


def _codex_helpers(entry: str) -> bool:
    return entry.endswith("/codex-path") or "/codex-arg0" in entry


@pytest.mark.parametrize(
    "overrides",
    [
        (),
        ("shell_environment_policy.ignore_default_excludes=false",),
        ('shell_environment_policy.inherit="core"', 'shell_environment_policy.set={CLSP_SET="1"}'),
        (
            'shell_environment_policy.exclude=["clsp_drop*", "CLSP_F?X"]',
            'shell_environment_policy.set={CLSP_SET="1", CLSP_SET_KEY="2", OTHER="3"}',
            'shell_environment_policy.include_only=["CLSP_*", "path", "HOME"]',
            "shell_environment_policy.ignore_default_excludes=false",
        ),
        (
            'shell_environment_policy.inherit="none"',
            # Codex's bash reads the startup file of $HOME (or of the user, without HOME): none here.
            'shell_environment_policy.set={CLSP_SET="1", HOME="/nonexistent"}',
        ),
        ("sandbox_workspace_write.network_access=true",),
        ('sandbox_mode="read-only"',),
    ],
    ids=["default", "default-excludes", "core", "exclude-set-include-only", "none", "network", "read-only"],
)
async def test_a_command_sees_what_codex_would_show_it(tmp_path: Path, overrides: tuple[str, ...]) -> None:
    theirs, ours = await both(tmp_path, "/usr/bin/env", ('sandbox_mode="workspace-write"', *overrides))
    assert environment(ours) == environment(theirs)
    assert any(name.startswith(("CLSP", "CODEX_SANDBOX")) for name in environment(ours)), "compared something"


@pytest.fixture
def outside_tmp() -> Iterator[Path]:
    """A host folder outside /tmp (which workspace-write makes writable), removed afterwards."""
    base = next((p for p in ("/var/tmp", str(Path.home())) if os.access(p, os.W_OK)), None)
    if base is None:
        pytest.skip("no writable host folder outside /tmp")
    path = Path(tempfile.mkdtemp(prefix="codex-lsp-differential-", dir=base))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.parametrize(
    "overrides",
    [
        ('sandbox_mode="read-only"',),
        ('sandbox_mode="workspace-write"',),
        ('sandbox_mode="workspace-write"', "sandbox_workspace_write.exclude_slash_tmp=true"),
        ('sandbox_mode="workspace-write"', "sandbox_workspace_write.exclude_tmpdir_env_var=true"),
        ('sandbox_mode="danger-full-access"',),
    ],
    ids=["read-only", "workspace-write", "no-slash-tmp", "no-tmpdir", "danger-full-access"],
)
async def test_a_command_may_write_where_codex_lets_it(
    tmp_path: Path, outside_tmp: Path, overrides: tuple[str, ...]
) -> None:
    """The workspace, its protected ``.git`` and ``.codex``, a writable root, a folder under /tmp,
    ``$TMPDIR`` and a folder that is none of these (the last three outside /tmp)."""
    root, tmpdir, elsewhere = outside_tmp / "root", outside_tmp / "tmpdir", outside_tmp / "elsewhere"
    under_tmp = tmp_path / "under-tmp"
    for folder in (root, tmpdir, elsewhere, under_tmp, tmp_path / "ws" / ".git", tmp_path / "ws" / ".codex"):
        folder.mkdir(parents=True)
    places = {
        "workspace": "made.txt",
        "git": ".git/hook",
        "codex": ".codex/x",
        "root": f"{root}/x",
        "tmp": f"{under_tmp}/x",
        "tmpdir": f"{tmpdir}/x",
        "elsewhere": f"{elsewhere}/x",
    }
    script = "; ".join(
        f"if ( echo x > {shlex.quote(target)} ) 2>/dev/null; then echo {name}=yes; else echo {name}=no; fi"
        for name, target in places.items()
    )
    roots = f'sandbox_workspace_write.writable_roots=["{root}"]'
    theirs, ours = await both(tmp_path, script, (*overrides, roots), env={"TMPDIR": str(tmpdir)})
    assert dict(line.split("=") for line in ours.splitlines()) == dict(
        line.split("=") for line in theirs.splitlines()
    )
    assert set(dict(line.split("=") for line in ours.splitlines())) == set(places)
