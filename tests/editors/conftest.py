"""Fixtures for end-to-end tests in real editors (see tests/editors/README.md).

Every test under tests/editors is marked ``editor`` and gets a 60 s timeout (its own ``timeout`` marker
wins). Neovim: `nvim_factory` starts a fresh headless Neovim per call. VS Code: one code-server and one
Chromium per test module (`code_server`, `browser`; a module chooses what is installed by overriding
`vscode_extensions` and `vscode_env`), and a fresh window per test (`workbench`), which is screenshotted
when the test fails.
Both: `fake_responses`, the fake Responses server for codex-lsp, served from a background thread, and
`fake_issuer`, the fake OpenAI sign-in server, on the same thread.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.editors.accounts import HostedIssuer
from tests.editors.background import BackgroundLoop, HostedFake
from tests.editors.deps import (
    EditorDepsMissing,
    VSCodeDeps,
    editor_deps_unavailable,
    nvim_binary,
    vscode_deps,
)
from tests.editors.nvim_driver import Nvim
from tests.editors.vscode_driver import PROBE_EXTENSION, CodeServer, Workbench, build_vsix, launch_chromium

EDITOR_TESTS = Path(__file__).parent
TEST_TIMEOUT = 60
_CALL_REPORT = pytest.StashKey[pytest.TestReport]()

NvimFactory = Callable[..., Nvim]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests of this folder ``editor`` and bound each to `TEST_TIMEOUT` seconds."""
    for item in items:
        if EDITOR_TESTS in item.path.parents:
            item.add_marker(pytest.mark.editor)
            if item.get_closest_marker("timeout") is None:
                item.add_marker(pytest.mark.timeout(TEST_TIMEOUT))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keep the call phase's report on the item, so a fixture's teardown knows the test failed."""
    report: Any = yield
    if call.when == "call":
        item.stash[_CALL_REPORT] = report
    return report  # type: ignore[no-any-return]


def _failed(request: pytest.FixtureRequest) -> bool:
    report = request.node.stash.get(_CALL_REPORT, None)
    return report is None or report.failed


def artifacts_dir(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """``$CODEX_LSP_E2E_ARTIFACTS/<test>`` when that is set (CI keeps it), else the test's temp folder."""
    base = os.environ.get("CODEX_LSP_E2E_ARTIFACTS")
    if not base:
        return tmp_path / "artifacts"
    return Path(base) / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)


@pytest.fixture
def fake_responses() -> Iterator[HostedFake]:
    """The fake Responses server on a background loop (point codex-lsp at ``fake_responses.base_url``)."""
    loop = BackgroundLoop()
    fake = HostedFake.start(loop)
    yield fake
    fake.stop()
    loop.close()


@pytest.fixture
def fake_issuer(fake_responses: HostedFake) -> Iterator[HostedIssuer]:
    """The fake OpenAI sign-in server, on `fake_responses`' loop (give codex-lsp ``fake_issuer.env()``)."""
    issuer = HostedIssuer.start(fake_responses.loop)
    yield issuer
    issuer.stop()


# --- Neovim ---


@pytest.fixture
def nvim_factory(tmp_path: Path) -> Iterator[NvimFactory]:
    """Start Neovims: ``nvim_factory(cwd=..., init=..., plugins=[...], env={...})``; all end at teardown."""
    try:
        nvim_binary()
    except EditorDepsMissing as error:
        editor_deps_unavailable(error)
    started: list[Nvim] = []

    def start(**kwargs: Any) -> Nvim:
        home = tmp_path / f"nvim-home-{len(started)}"
        kwargs.setdefault("cwd", tmp_path)
        started.append(Nvim.start(home, **kwargs))
        return started[-1]

    yield start
    for editor in started:
        editor.close()


# --- VS Code ---


@pytest.fixture(scope="module")
def vscode(request: pytest.FixtureRequest) -> VSCodeDeps:
    """The cached VS Code parts (Node 24, code-server, vsce, Chromium)."""
    try:
        return vscode_deps()
    except EditorDepsMissing as error:
        editor_deps_unavailable(error)


@pytest.fixture(scope="module")
def probe_vsix(vscode: VSCodeDeps, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The probe extension (fixtures/probe-extension) packed into a .vsix."""
    return build_vsix(vscode, PROBE_EXTENSION, tmp_path_factory.mktemp("vsix") / "codex-test-probe.vsix")


@pytest.fixture(scope="module")
def vscode_extensions(probe_vsix: Path) -> list[Path]:
    """The .vsix files installed into the module's code-server; override in a module to add yours."""
    return [probe_vsix]


@pytest.fixture(scope="module")
def vscode_env() -> dict[str, str]:
    """Extra environment for the module's code-server (its extension hosts inherit it); override to set."""
    return {}


@pytest.fixture(scope="module")
def code_server(
    vscode: VSCodeDeps,
    vscode_extensions: list[Path],
    vscode_env: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[CodeServer]:
    """One code-server for the module, with `vscode_extensions` installed; its process group ends after."""
    server = CodeServer.start(
        vscode, tmp_path_factory.mktemp("code-server"), extensions=vscode_extensions, env=vscode_env
    )
    yield server
    server.close()


@pytest.fixture(scope="module")
def browser(vscode: VSCodeDeps) -> Iterator[Any]:
    """Headless Chromium for the module (Playwright's sync API, so the tests are plain functions)."""
    playwright, chromium = launch_chromium(vscode)
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """An empty folder for the test's files; `workbench` opens it."""
    folder = tmp_path / "workspace"
    folder.mkdir()
    return folder


@pytest.fixture
def workbench(
    request: pytest.FixtureRequest, browser: Any, code_server: CodeServer, workspace: Path, tmp_path: Path
) -> Iterator[Workbench]:
    """A VS Code window on `workspace`; on failure it saves a screenshot and prints where the logs are."""
    window = Workbench.open(browser, code_server, workspace, artifacts_dir(request, tmp_path))
    yield window
    if _failed(request):
        try:
            shot = window.screenshot("failure")
            print(f"screenshot: {shot}")
        except Exception as error:  # the page may be what broke
            print(f"no screenshot: {error}")
        print(f"code-server log: {code_server.log_path}\n{code_server.exthost_log()[-4000:]}")
        # The extension's log channels (the language client's: the server's log, every request that
        # failed), which VS Code keeps per window under the extension's id.
        for path in sorted(code_server.user_data.glob("logs/*/exthost*/codex-lsp.codex-lsp/*.log")):
            print(f"--- {path} ---\n{path.read_text(errors='replace')[-6000:]}")
    window.close()
