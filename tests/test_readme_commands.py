"""The README's command lines, as a user types them, are commands ``codex-lsp`` accepts.

Each ``codex-lsp …`` line of the README's ```sh blocks is parsed by the real argument parser (a synopsis
with ``[OPTIONAL]`` parts is not a command line and is skipped). Parsing alone runs nothing: it is what
fails with "ambiguous option" when a sub-command's option is also a prefix of the top-level ones
(``acp --allow`` against ``--allow-origin`` / ``--allow-remote``, on Python 3.11 to 3.13).
"""

from __future__ import annotations

import shlex

import pytest

from codex_lsp.cli import build_parser
from tests.readme import README, fenced_blocks


def readme_command_lines() -> list[str]:
    """Every ``codex-lsp`` command line in the README's shell blocks, without its trailing comment."""
    lines = []
    for block in fenced_blocks(README.read_text(encoding="utf-8"), "sh"):
        for line in block.splitlines():
            words = shlex.split(line, comments=True)
            if words[:1] == ["codex-lsp"] and not any(word.startswith("[") for word in words):
                lines.append(shlex.join(words))
    return lines


def parse(line: str) -> dict[str, object]:
    """What ``build_parser`` makes of ``line`` (a usage error fails the test with argparse's message)."""
    try:
        return vars(build_parser().parse_args(shlex.split(line)[1:]))
    except SystemExit as exc:
        pytest.fail(f"codex-lsp refused the README's line {line!r} (exit {exc.code})")


def test_the_readme_shows_command_lines() -> None:
    lines = readme_command_lines()
    assert len(lines) > 10
    assert "codex-lsp acp --shell --allow pytest" in lines


@pytest.mark.parametrize("line", readme_command_lines())
def test_each_readme_command_line_parses(line: str) -> None:
    parse(line)


@pytest.mark.parametrize("command", ["acp", "exec"])
def test_readme_shell_allow_lines_offer_the_shell_and_allow_pytest(command: str) -> None:
    """``acp --shell --allow pytest`` and ``exec --shell --allow pytest …`` exactly as the README writes
    them (they exited 2 with "ambiguous option: --allow could match --allow-origin, --allow-remote")."""
    (line,) = [line for line in readme_command_lines() if line.startswith(f"codex-lsp {command} --shell")]
    args = parse(line)
    assert args["command"] == command
    assert args["shell"] is True
    assert args["allow"] == ["pytest"]


def test_top_level_options_are_not_abbreviated() -> None:
    """Abbreviations are what made ``--allow`` ambiguous; the server's flags are only taken whole."""
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--stdio", "--log-lev", "debug"])
