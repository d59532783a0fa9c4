"""The VS Code driver against real code-server 4.139 (VS Code 1.139) in headless Chromium, with the probe
extension (fixtures/probe-extension) built into a .vsix by vsce and installed like any extension."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.editors.deps import VSCodeDeps
from tests.editors.vscode_driver import CodeServer, Workbench

APP = "import os\n\nprint('hi')\n"


def test_a_palette_command_of_an_installed_extension_runs_in_the_extension_host(workbench: Workbench) -> None:
    workbench.run_command("Codex Test Probe: Show Notification")
    assert (
        workbench.wait_notification("Codex Test Probe") == "Codex Test Probe: hello from the extension host"
    )
    shot = workbench.screenshot("notification")
    assert shot.stat().st_size > 10_000


def test_the_editor_text_reads_the_same_through_the_probe_the_screen_and_the_disk(
    workbench: Workbench, workspace: Path
) -> None:
    (workspace / "app.py").write_text(APP)
    workbench.open_file("app.py")
    state = workbench.probe_state(until=lambda got: got["active"] is not None)
    assert state["active"]["path"] == str(workspace / "app.py")
    assert (state["active"]["text"], state["active"]["isDirty"]) == (APP, False)

    workbench.focus_editor()
    workbench.page.keyboard.press("Control+Home")
    workbench.page.keyboard.type("# edited\n")
    state = workbench.probe_state(until=lambda got: got["active"]["text"] == "# edited\n" + APP)
    assert (state["active"]["text"], state["active"]["isDirty"]) == ("# edited\n" + APP, True)
    assert workbench.visible_text() == "# edited\nimport os\n\nprint('hi')\n"
    assert workbench.save_and_read("app.py") == "# edited\n" + APP


def test_diagnostics_published_through_the_probe_show_in_the_editor(
    workbench: Workbench, workspace: Path
) -> None:
    (workspace / "app.py").write_text(APP)
    workbench.open_file("app.py")
    workbench.publish_diagnostics(
        [
            {
                "path": str(workspace / "app.py"),
                "message": "`os` imported but unused",
                "code": "F401",
                "range": {"start": [0, 7], "end": [0, 9]},
            }
        ]
    )
    state = workbench.probe_state()
    assert state["diagnostics"] == [
        {
            "path": str(workspace / "app.py"),
            "diagnostics": [
                {
                    "message": "`os` imported but unused",
                    "source": "codex-test-probe",
                    "code": "F401",
                    "severity": "warning",
                    "range": {"start": [0, 7], "end": [0, 9]},
                }
            ],
        }
    ]
    workbench.screenshot("diagnostic")


def test_an_extension_that_does_not_install_fails_the_start_with_the_reason(
    vscode: VSCodeDeps, tmp_path: Path
) -> None:
    (tmp_path / "broken.vsix").write_text("not a zip")
    with pytest.raises(RuntimeError, match=r"installing broken.vsix failed:\n(.|\n)*not a zip file"):
        CodeServer.start(vscode, tmp_path / "code-server", extensions=[tmp_path / "broken.vsix"])
