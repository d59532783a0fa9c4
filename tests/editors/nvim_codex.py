"""A real Neovim with the codex plugin (editors/nvim), codex-lsp pointed at the fake Responses server.

Shared by the ``test_nvim_*.py`` modules that test the plugin: `CodexNvim.start` writes a throwaway
``CODEX_HOME`` whose provider is the fake server, starts Neovim with the plugin on its 'runtimepath',
optionally ``ruff server`` as a second language server, and calls ``require("codex").setup(...)``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codex_lsp.testing import Script
from codex_lsp.testing import write_chatgpt_home
from tests.editors.accounts import HostedIssuer
from tests.editors.background import HostedFake
from tests.editors.deps import REPO_ROOT
from tests.editors.nvim_driver import Nvim, ruff_server_lua

__all__ = ["KEY", "PLUGIN", "CodexNvim", "lua_table", "patch", "script", "user_texts"]

PLUGIN = REPO_ROOT / "editors" / "nvim"
KEY = "sk-test-nvim-SECRET-0123456789abcdef"
"""The API key codex-lsp finds (through the provider's ``env_key``); it must never be shown."""


def write_codex_home(home: Path, base_url: str) -> None:
    """A ``$CODEX_HOME`` whose provider is the fake server at ``base_url``, its key in the environment."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(
        f"""model = "gpt-5.5"
model_provider = "fake"

[model_providers.fake]
name = "fake"
base_url = "{base_url}"
env_key = "CODEX_LSP_TEST_KEY"
supports_websockets = true
request_max_retries = 1
stream_max_retries = 1
""",
        encoding="utf-8",
    )


def lua_table(value: Mapping[str, Any]) -> str:
    """``value`` as a Lua expression (through JSON, so any JSON-able options can be passed)."""
    return "vim.json.decode(" + json.dumps(json.dumps(value)) + ")"


def script(*requests: dict[str, Any]) -> Script:
    """A one-turn script: each argument is one scripted model response (a `Step` as JSON)."""
    return Script.model_validate({"turns": [{"requests": list(requests)}]})


def patch(path: str, body: str) -> str:
    """An ``apply_patch`` input updating ``path`` with the hunk ``body``."""
    return f"*** Begin Patch\n*** Update File: {path}\n{body}*** End Patch\n"


def user_texts(fake: HostedFake, *, last: bool = False) -> list[str]:
    """Every user text the model was sent (history included), over all generating requests or the last."""

    def read(server: Any) -> list[str]:
        requests = server.generating_requests()
        return [
            str(part.get("text", ""))
            for request in (requests[-1:] if last else requests)
            for item in request.effective_input
            if item.get("role") == "user"
            for part in item.get("content", [])
        ]

    return fake.read(read)


@dataclass
class CodexNvim:
    """A Neovim with the plugin set up, in ``root`` (its cwd and the project folder)."""

    nvim: Nvim
    root: Path

    @classmethod
    def start(
        cls,
        nvim_factory: Callable[..., Nvim],
        tmp_path: Path,
        fake: HostedFake | None,
        *,
        options: Mapping[str, Any] | None = None,
        ruff: bool = True,
        before_setup: str = "",
        env: Mapping[str, str] | None = None,
        base_url: str | None = None,
        issuer: HostedIssuer | None = None,
    ) -> CodexNvim:
        """Neovim in ``tmp_path/project``; ``require("codex").setup(options)`` runs after ``before_setup``.

        With ``issuer``, the provider takes the OpenAI sign-in instead of a key (`write_chatgpt_home`, at
        ``fake``'s ChatGPT-shaped URL) and codex-lsp signs in, refreshes and revokes at ``issuer``.
        """
        root = tmp_path / "project"
        root.mkdir(parents=True, exist_ok=True)
        home = tmp_path / "codex-home"
        variables = {
            "CODEX_HOME": str(home),
            "CODEX_LSP_STATE_DIR": str(tmp_path / "codex-state"),
            "CODEX_LSP_TEST_KEY": KEY,
            "OPENAI_API_KEY": "",
            "CODEX_API_KEY": "",
        }
        if issuer is not None:
            assert fake is not None, "the signed-in provider is the fake model"
            write_chatgpt_home(home, fake.chatgpt_base_url)
            variables.update(issuer.env(), CODEX_LSP_TEST_KEY="")
        else:
            write_codex_home(home, base_url or (fake.base_url if fake else "http://127.0.0.1:9/v1"))
        variables.update(env or {})
        init = (ruff_server_lua() if ruff else "") + before_setup + "\n"
        init += f"require('codex').setup({lua_table(options or {})})\n"
        nvim = nvim_factory(cwd=root, plugins=[PLUGIN], init=init, env=variables)
        return cls(nvim, root)

    def open(self, name: str, text: str) -> int:
        """Write ``name`` in the project, open it and wait for codex-lsp to attach; its buffer number."""
        (self.root / name).write_text(text, encoding="utf-8")
        buf = self.nvim.edit(name)
        self.nvim.wait_client("codex", buf)
        return buf

    def transcript(self) -> str:
        """The transcript buffer's text."""
        return str(self.nvim.lua("return require('codex.transcript').text()"))

    def wait_transcript(self, needle: str, *, what: str = "") -> str:
        """Wait until the transcript contains ``needle``; return its text."""
        self.nvim.wait_until(
            "function(s) return require('codex.transcript').text():find(s, 1, true) ~= nil end",
            needle,
            what=what or f"{needle!r} in the transcript",
        )
        return self.transcript()

    def wait_forwarded(self, buf: int, count: int) -> None:
        """Wait until the plugin has forwarded ``count`` diagnostics of ``buf``'s current text to codex-lsp.

        A person takes longer than that between seeing a diagnostic and asking for code actions; a test
        waits for it, so that the action list it asks for next is the one a person would see.
        """
        self.nvim.wait_until(
            """function(b, n)
                local sent = require('codex.diagnostics').forwarded(b)
                return sent ~= nil and sent.count == n and sent.version == vim.lsp.util.buf_versions[b]
            end""",
            buf,
            count,
            what=f"the plugin to forward {count} diagnostic(s) of buffer {buf}",
        )

    def wait_notification(self, message: str) -> None:
        """Wait until ``vim.notify`` was called with exactly ``message``."""
        self.nvim.wait_until(
            """function(m)
                for _, n in ipairs(codex_test.notifications) do if n.message == m then return true end end
                return false
            end""",
            message,
            what=f"the notification {message!r}",
        )

    def running(self) -> int:
        """Turns the plugin has started that have not ended."""
        return int(self.nvim.lua("return require('codex.turns').running()"))

    def wait_idle(self) -> None:
        """Wait until no turn the plugin started is running."""
        self.nvim.wait_until(
            "function() return require('codex.turns').running() == 0 end", what="the turn to end"
        )
