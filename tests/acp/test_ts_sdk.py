"""End to end with a client we did not write: the ACP TypeScript SDK (``@agentclientprotocol/sdk``, pinned in
tests/clients) drives ``codex-lsp acp`` from Node (tests/acp/ts_client/client.mjs) against the fake model.

One scenario, as an editor lives it: initialize, a session, its ``configOptions`` read, review mode chosen
with ``session/set_config_option``, a prompt whose scripted apply_patch asks for permission (answered
"allow once") and edits a file whose editor buffer holds an unsaved line (served by the client's
``fs/read_text_file``), then a second prompt cancelled with ``session/cancel``.

Needs Node 20 or later (``node`` on PATH, else the editor tests' pinned Node) and
``tests/clients/node_modules`` (``make test`` runs ``npm ci`` there); without them the test is skipped
with the command that installs them, or fails under ``CODEX_LSP_REQUIRE_EDITORS=1``.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from codex_lsp.testing import Script
from tests.acp.harness import patch_call, say, setup, step
from tests.acp.test_turns import silent_before_completion
from tests.agent.harness import outputs, user_texts
from tests.editors.deps import REPO_ROOT, EditorDepsMissing, cache_dir, editor_deps_unavailable, pins

pytestmark = [pytest.mark.editor, pytest.mark.timeout(90)]

CLIENT = Path(__file__).parent / "ts_client" / "client.mjs"
SDK = REPO_ROOT / "tests" / "clients" / "node_modules" / "@agentclientprotocol" / "sdk" / "package.json"
SDK_VERSION = "2.4.0"
RUN_TIMEOUT = 60

DISK = "def total(items):\n    return sum(items)\n\nvalue = 1\n"
UNSAVED = "# unsaved: typed in the editor, not on disk\n" + DISK
PATCH = "*** Begin Patch\n*** Update File: a.py\n@@\n-value = 1\n+value = 2\n*** End Patch\n"


def _major(binary: str) -> int:
    version = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False).stdout
    match = re.match(r"v(\d+)\.", version.strip())
    return int(match.group(1)) if match else 0


def node() -> str:
    """A Node 20 or later — ``node`` from PATH, else the pinned Node of the editor tests (``make
    editor-deps``) — once the pinned SDK is installed; else skip (or fail) saying how to install them."""
    candidates = [found] if (found := shutil.which("node")) else []
    pinned = cache_dir() / f"node-{pins()['NODE_VERSION']}"
    if (pinned / ".installed").is_file():
        candidates.append(str(pinned / "bin" / "node"))
    usable = [binary for binary in candidates if _major(binary) >= 20]
    if not usable:
        editor_deps_unavailable(EditorDepsMissing("no Node 20 or later on PATH; run `make editor-deps`"))
    if not SDK.is_file() or json.loads(SDK.read_text(encoding="utf-8"))["version"] != SDK_VERSION:
        editor_deps_unavailable(
            EditorDepsMissing(
                f"@agentclientprotocol/sdk {SDK_VERSION} is not installed in tests/clients; run `make test` "
                "(or `cd tests/clients && npm ci`)"
            )
        )
    return usable[0]


async def run_client(node_bin: str, config: dict[str, Any]) -> dict[str, Any]:
    process = await asyncio.create_subprocess_exec(
        node_bin,
        str(CLIENT),
        json.dumps(config),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(RUN_TIMEOUT):
            out, err = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode == 0, f"the TypeScript client failed:\n{err.decode(errors='replace')}"
    report: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return report


def by_id(options: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {option["id"]: option for option in options}


def updates(report: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [update for update in report["updates"] if update["sessionUpdate"] == kind]


async def test_the_typescript_sdk_sets_review_mode_edits_an_unsaved_buffer_and_cancels(
    tmp_path: Path,
) -> None:
    node_bin = node()
    async with setup(tmp_path) as s:
        a = s.root / "a.py"
        a.write_text(DISK, encoding="utf-8")
        s.fake.load(
            script(
                [step(patch_call(PATCH)), step(say("Set value to 2."))],
                [silent_before_completion(say("Let me think about that."))],
            )
        )
        config = {
            "command": [sys.executable, "-m", "codex_lsp", "acp"],
            "cwd": str(s.root),
            "env": s.env(),
            "file": str(a),
            "buffer": UNSAVED,
            "mode": "review",
            "prompt": "set value to 2",
            "cancelPrompt": "think for a long time",
        }
        report = await run_client(node_bin, config)
        requests = [request for request in s.fake.requests if not request.prewarm]

    assert report["sdkVersion"] == SDK_VERSION
    assert report["initialize"]["agentInfo"]["name"] == "codex-lsp"

    options = by_id(report["configOptions"])
    assert list(options) == ["mode", "model", "reasoning_effort"]
    assert options["mode"]["currentValue"] == report["modes"]["currentModeId"] == "auto"
    assert [o["value"] for o in options["mode"]["options"]] == ["auto", "review", "read-only"]
    assert by_id(report["afterSet"])["mode"]["currentValue"] == "review"
    mode_updates = [
        u["currentModeId"] for u in report["updates"] if u["sessionUpdate"] == "current_mode_update"
    ]
    assert mode_updates == ["review"], "a client that reads modes hears of the change made through options"

    assert report["firstStop"]["stopReason"] == "end_turn"
    [asked] = report["permissions"]
    assert asked["title"] == "Apply changes to a.py?"
    assert asked["kinds"] == ["allow_once", "allow_always", "reject_once"]
    assert asked["content"][0]["oldText"] == UNSAVED, "the question shows the diff of the editor's text"
    expected = UNSAVED.replace("value = 1", "value = 2")
    assert report["writes"] == [{"path": str(a), "content": expected}]
    assert report["bufferAfter"] == expected, "the unsaved line survived the edit"
    assert a.read_text(encoding="utf-8") == expected
    assert str(a) in report["reads"], "the file was read through the editor"
    assert outputs(requests[1])[0].startswith("Exit code: 0")
    assert "Set value to 2." in "".join(u["content"]["text"] for u in updates(report, "agent_message_chunk"))

    assert report["cancelSent"] is True
    assert report["secondStop"]["stopReason"] == "cancelled"
    assert "think for a long time" in user_texts(requests[-1])[-1]
    assert len(requests) == 3, "nothing more was asked of the model after the cancel"
    assert report["agentExit"] == 0


def script(*turns: list[dict[str, Any]]) -> Script:
    return Script.model_validate({"turns": [{"requests": steps} for steps in turns]})
