"""The VS Code extension's manifest (editors/vscode/package.json) against the server it drives: its
settings mirror the server's, and none of its commands takes an id the language client registers for the
server."""

from __future__ import annotations

import json
from typing import Any

from codex_lsp.lsp.features.account import COMMANDS as ACCOUNT_COMMANDS
from codex_lsp.lsp.features.commands import COMMANDS
from codex_lsp.lsp.features.review import REVIEW_COMMANDS
from codex_lsp.lsp.settings import KEYS
from tests.editors.deps import REPO_ROOT

MANIFEST: dict[str, Any] = json.loads((REPO_ROOT / "editors" / "vscode" / "package.json").read_text())
CLIENT_ONLY = {"codex.server.path", "codex.trace.server"}


def test_the_extension_contributes_every_server_setting_and_only_those() -> None:
    contributed = set(MANIFEST["contributes"]["configuration"]["properties"]) - CLIENT_ONLY
    assert contributed == {"codex." + ".".join(path) for path in KEYS}


def test_no_extension_command_takes_a_server_command_id() -> None:
    ours = {c["command"] for c in MANIFEST["contributes"]["commands"]}
    assert not ours & {*COMMANDS, *REVIEW_COMMANDS, *ACCOUNT_COMMANDS}
