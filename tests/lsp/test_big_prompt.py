"""A huge prompt (issue 15, item 12): the editor gets it back as a title, not whole, and the thread
file holds it once (in the user message), not twice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types

from codex_lsp.agent import TITLE_MAX_CHARS
from codex_lsp.testing import FakeResponsesServer
from tests.lsp.harness import editor_session, load, say

pytestmark = [
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning"),
]

PROMPT_BYTES = 5 * 1024 * 1024


async def test_a_huge_prompt_is_a_title_in_turn_started_and_saved_once(
    tmp_path: Path, fake: FakeResponsesServer
) -> None:
    prompt = "Refactor this. " + "x" * PROMPT_BYTES + " END-OF-PROMPT-MARKER"
    async with editor_session(tmp_path, fake, "vscode") as ed:
        load(fake, [say("ok")])
        result = await ed.execute("codex.ask", {"prompt": prompt})
        assert result["status"] == "completed", result
        (started,) = ed.of("codex/turn/started")
        reports: list[Any] = [r for rs in ed.client.progress_reports.values() for r in rs]
        begins = [r for r in reports if isinstance(r, types.WorkDoneProgressBegin)]
    assert begins, "the turn showed progress"
    assert started.title == prompt[: TITLE_MAX_CHARS - 1] + "…"
    assert all(len(begin.message or "") <= TITLE_MAX_CHARS for begin in begins)
    (saved,) = (tmp_path / "state" / "threads").glob("*.jsonl")
    text = saved.read_text(encoding="utf-8")
    assert text.count("END-OF-PROMPT-MARKER") == 1, "the prompt is written once"
    assert len(text) < len(prompt) + 64 * 1024
