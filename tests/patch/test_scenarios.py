"""Scenario fixtures for the patch engine, run through codex-lsp and through the reference Codex binary.

Each folder under ``scenarios/`` (layout in ``scenarios/README.md``) is one patch applied to one starting
tree. ``test_scenario`` checks codex-lsp against it. ``test_codex_agrees`` checks the fixture itself against
the real Codex engine wherever codex-lsp means to behave like upstream, and ``test_codex_differs`` checks that
every documented deliberate difference is still a real one, so a stale ``codex_differs.txt`` is noticed.
Folders with a ``deviation.txt`` are the corpus of model-style deviations (fences, heredocs, prose, unified
headers, git prefixes…): each has its one intended result or its refusal.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from codex_lsp.cli import main
from codex_lsp.testing import PeerNotInstalled, codex_binary

SCENARIOS_DIR = Path(__file__).resolve().parent / "scenarios"
SUCCESS_BANNER = "Success. Updated the following files:"
UNSAFE_MARKER = "unsafe-to-run"
CODEX_TIMEOUT_SECONDS = 60
WORKSPACE_TOKEN = "@WORKSPACE@"
"""Stands in ``patch.txt`` for the absolute path of the workspace the scenario runs in."""
CORPUS_MINIMUM = 40

Entry = tuple[str, bytes]
"""A tree entry: ``("file", content)`` or ``("link", target)``."""

Tree = dict[str, Entry]
"""Every file and symlink under a root, keyed by its POSIX path relative to the root."""


def all_scenarios() -> list[Path]:
    """Return the scenario folders (``NNN_name``) in numeric order."""
    return sorted(p for p in SCENARIOS_DIR.iterdir() if p.is_dir() and re.fullmatch(r"\d{3}_\w+", p.name))


def differs_note(scenario: Path) -> str | None:
    """Return the text of ``codex_differs.txt``, or ``None`` when codex-lsp means to agree with Codex."""
    note = scenario / "codex_differs.txt"
    return note.read_text(encoding="utf-8") if note.is_file() else None


def is_unsafe_for_codex(scenario: Path) -> bool:
    """Whether Codex, which does not confine paths, would write outside the workspace on this scenario."""
    note = differs_note(scenario)
    return note is not None and note.splitlines()[0].strip() == UNSAFE_MARKER


def expected_errors(scenario: Path) -> list[str] | None:
    """Return the substrings stderr must contain, or ``None`` when the patch must apply."""
    path = scenario / "expected_error.txt"
    if not path.is_file():
        return None
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def patch_text(scenario: Path, workspace: Path) -> str:
    """The scenario's patch, with :data:`WORKSPACE_TOKEN` replaced by the workspace's absolute path."""
    return (scenario / "patch.txt").read_text(encoding="utf-8").replace(WORKSPACE_TOKEN, str(workspace))


def expected_notes(scenario: Path) -> list[str]:
    """The substrings the notes on stderr must contain after a success; none: stderr stays empty."""
    path = scenario / "expected_notes.txt"
    if not path.is_file():
        return []
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def read_tree(root: Path) -> Tree:
    """Snapshot every file (bytes) and symlink (target, not followed) under ``root``; a missing root is empty.

    Directories are not entries: git cannot store empty ones, so fixtures never rely on them.
    """
    tree: Tree = {}
    if not root.is_dir():
        return tree
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                tree[rel] = ("link", os.fsencode(os.readlink(path)))
            elif name in filenames:
                tree[rel] = ("file", path.read_bytes())
    return tree


def describe_differences(actual: Tree, expected: Tree) -> list[str]:
    """List, one line per path, how ``actual`` differs from ``expected``."""
    problems: list[str] = []
    for rel in sorted(expected.keys() | actual.keys()):
        if rel not in actual:
            problems.append(f"missing {expected[rel][0]}: {rel}")
        elif rel not in expected:
            problems.append(f"unexpected {actual[rel][0]}: {rel} = {actual[rel][1]!r}")
        elif actual[rel] != expected[rel]:
            problems.append(f"{rel}: expected {expected[rel]!r}, got {actual[rel]!r}")
    return problems


def prepare_workspace(scenario: Path, tmp_path: Path) -> Path:
    """Copy ``input/`` (symlinks kept as links) to ``tmp_path/ws`` and create the empty ``tmp_path/outside``.

    ``outside`` is the directory next to the workspace that escape scenarios aim at; anything that appears
    in ``tmp_path`` besides these two, or inside ``outside``, was written outside the workspace.
    """
    workspace = tmp_path / "ws"
    source = scenario / "input"
    if source.is_dir():
        shutil.copytree(source, workspace, symlinks=True)
    else:
        workspace.mkdir()
    (tmp_path / "outside").mkdir()
    return workspace


def escaped_writes(tmp_path: Path) -> list[str]:
    """Return what a run created outside the workspace (see :func:`prepare_workspace`)."""
    stray = [p.name for p in tmp_path.iterdir() if p.name not in {"ws", "outside"}]
    stray += [f"outside/{rel}" for rel in read_tree(tmp_path / "outside")]
    return sorted(stray)


def run_codex(workspace: Path, patch: str) -> subprocess.CompletedProcess[str]:
    """Run the reference engine standalone on ``patch`` with ``workspace`` as its working directory."""
    try:
        binary = codex_binary()
    except PeerNotInstalled as exc:
        pytest.fail(f"the reference Codex binary is required for this test: {exc}")
    return subprocess.run(
        [str(binary), "--codex-run-as-apply-patch", patch],
        cwd=workspace,
        capture_output=True,
        text=True,
        timeout=CODEX_TIMEOUT_SECONDS,
        check=False,
    )


SCENARIOS = all_scenarios()
AGREEING = [s for s in SCENARIOS if differs_note(s) is None]
DIFFERING_SAFE = [s for s in SCENARIOS if differs_note(s) is not None and not is_unsafe_for_codex(s)]


def scenario_id(scenario: Path) -> str:
    """Name a parametrized case after its folder."""
    return scenario.name


@pytest.mark.parametrize("scenario", SCENARIOS, ids=scenario_id)
def test_scenario(
    scenario: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """codex-lsp produces the expected tree, exit code and messages, and writes nothing outside the root."""
    workspace = prepare_workspace(scenario, tmp_path)
    patch_file = str(scenario / "patch.txt")
    if WORKSPACE_TOKEN in (scenario / "patch.txt").read_text(encoding="utf-8"):
        monkeypatch.setattr("sys.stdin", io.StringIO(patch_text(scenario, workspace)))
        patch_file = "-"
    code = main(["apply-patch", "--root", str(workspace), patch_file])
    out, err = capsys.readouterr()

    errors = expected_errors(scenario)
    if errors is None:
        assert code == 0, f"expected success, got exit {code}\nstdout:\n{out}\nstderr:\n{err}"
        assert out.startswith(SUCCESS_BANNER), f"stdout lacks the success banner:\n{out}"
        notes = expected_notes(scenario)
        missing_notes = [line for line in notes if line not in err]
        assert not missing_notes, f"stderr lacks the notes {missing_notes}\nstderr:\n{err}"
        assert notes or not err, f"a patch that needed no repair printed on stderr:\n{err}"
        stray = [line for line in err.splitlines() if not line.startswith("note: ")]
        assert not stray, f"stderr holds more than notes:\n{err}"
    else:
        assert code == 1, f"expected failure (exit 1), got exit {code}\nstdout:\n{out}\nstderr:\n{err}"
        missing = [line for line in errors if line not in err]
        assert not missing, f"stderr lacks {missing}\nstderr:\n{err}"

    problems = describe_differences(read_tree(workspace), read_tree(scenario / "expected"))
    assert not problems, "resulting tree differs from expected/:\n" + "\n".join(problems)
    assert not escaped_writes(tmp_path), f"written outside the workspace: {escaped_writes(tmp_path)}"


@pytest.mark.parametrize("scenario", AGREEING, ids=scenario_id)
def test_codex_agrees(scenario: Path, tmp_path: Path) -> None:
    """The real Codex engine gives the fixture's tree and succeeds or fails as the fixture says.

    Only the outcome is compared: error wording is codex-lsp's own where upstream has none to copy.
    """
    workspace = prepare_workspace(scenario, tmp_path)
    result = run_codex(workspace, patch_text(scenario, workspace))
    transcript = f"Codex exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"

    if expected_errors(scenario) is None:
        assert result.returncode == 0, f"Codex rejected a patch the fixture expects to apply\n{transcript}"
    else:
        assert result.returncode == 1, f"Codex did not fail as the fixture expects\n{transcript}"
    problems = describe_differences(read_tree(workspace), read_tree(scenario / "expected"))
    assert not problems, "Codex's tree differs from expected/:\n" + "\n".join(problems) + "\n" + transcript


@pytest.mark.parametrize("scenario", DIFFERING_SAFE, ids=scenario_id)
def test_codex_differs(scenario: Path, tmp_path: Path) -> None:
    """Codex's outcome (success or failure, and tree) still differs where ``codex_differs.txt`` says so."""
    workspace = prepare_workspace(scenario, tmp_path)
    result = run_codex(workspace, patch_text(scenario, workspace))

    same_status = (result.returncode == 0) == (expected_errors(scenario) is None)
    same_tree = read_tree(workspace) == read_tree(scenario / "expected")
    assert not (same_status and same_tree), (
        "Codex now behaves as this fixture expects; codex_differs.txt is stale\n"
        f"Codex exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )


def test_the_corpus_of_model_deviations_is_large_enough() -> None:
    """Issue 16's bar: at least forty model-style deviations, each with its one result or refusal."""
    corpus = [s for s in SCENARIOS if (s / "deviation.txt").is_file()]
    assert len(corpus) >= CORPUS_MINIMUM, [s.name for s in corpus]
