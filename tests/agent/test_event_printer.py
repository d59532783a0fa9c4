"""What ``exec`` prints for turn events: one plain line each on stderr, the agent's text on stdout."""

from __future__ import annotations

import io
from typing import Literal

from codex_lsp.agent.events import (
    AgentMessageDelta,
    CommandFinished,
    CommandStarted,
    FileChangeEntry,
    FileChangeItem,
    ItemCompleted,
    TurnEvent,
)
from codex_lsp.headless import EventPrinter


def printed(*events: TurnEvent) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    printer = EventPrinter(out, err)
    for event in events:
        printer(event)
    return out.getvalue(), err.getvalue()


def patch(*paths: str, status: Literal["applied", "failed"] = "applied", message: str = "") -> ItemCompleted:
    changes = tuple(FileChangeEntry(path=p, kind="update") for p in paths)
    item = FileChangeItem(id="p1", changes=changes, status=status, message=message)
    return ItemCompleted(turn_id="t", item=item)


def test_a_declined_command_says_declined_plainly() -> None:
    finished = CommandFinished(
        turn_id="t", item_id="c", exit_code=None, duration_seconds=0.0, status="declined"
    )
    assert printed(finished) == ("", "[codex] declined\n")


def test_a_finished_command_reports_exit_and_time() -> None:
    finished = CommandFinished(turn_id="t", item_id="c", exit_code=2, duration_seconds=1.25, status="failed")
    assert printed(finished)[1] == "[codex] failed: exit 2 in 1.2s\n"


def test_the_command_notice_quotes_like_the_approval_prompt() -> None:
    started = CommandStarted(
        turn_id="t", item_id="c", command=("bash", "-lc", "env | grep KEY"), cwd=".", sandboxed=True
    )
    assert printed(started)[1] == "[codex] $ bash -lc 'env | grep KEY'  (sandboxed)\n"


def test_a_dry_run_note_has_one_pair_of_parentheses() -> None:
    _, err = printed(patch("app.py", message="dry run: nothing was written to disk"))
    assert err == "[codex] patched: M app.py (dry run: nothing was written to disk)\n"


def test_a_refused_patch_is_one_line_even_when_the_error_is_long() -> None:
    message = "Failed to find expected lines in app.py:\n" + "x" * 10_000 + "\nDid you mean line 2?"
    _, err = printed(patch(status="failed", message=message))
    assert err == "[codex] patch refused: Failed to find expected lines in app.py:\n"
    _, err = printed(patch(status="failed", message="y" * 10_000))
    assert err.startswith("[codex] patch refused: yyy")
    assert err.endswith("…\n")
    assert len(err) < 400


def test_a_large_patch_names_ten_files_and_counts_the_rest() -> None:
    _, err = printed(patch(*(f"f{i}.txt" for i in range(2000))))
    assert err.count("\n") == 1
    assert err.startswith("[codex] patched: M f0.txt, M f1.txt,")
    assert err.endswith("M f9.txt, and 1990 more files\n")


def test_notes_start_on_a_fresh_line_after_streamed_text() -> None:
    out, err = printed(AgentMessageDelta(turn_id="t", item_id="m", delta="half a line"), patch("a.py"))
    assert (out, err) == ("half a line\n", "[codex] patched: M a.py\n")
