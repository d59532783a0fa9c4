"""Text no encoder accepts never breaks a thread (issue 15, item 4).

Lone surrogates reach the server from everywhere: a prompt or a buffer (JSON's ``"\\ud800"`` escape
decodes to one), the model's own text, and file names that are not UTF-8 (Python hands them out with
``surrogateescape``: a Latin-1 ``café`` is ``caf\\udce9``). None of them is UTF-8, so writing them to
the thread file used to fail the turn — and the thread with it. Here such a turn completes, its text
is saved escaped, and the next turn on the same thread works.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from codex_lsp.agent import ThreadStore
from codex_lsp.testing import FakeResponsesServer
from tests.lsp.harness import call, editor_session, load, outputs, say, user_texts

pytestmark = [
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning"),
]

LATIN1_NAME = "caf\xe9.txt".encode("latin-1")


async def test_lone_surrogates_and_a_latin1_name_never_break_a_thread(
    tmp_path: Path, fake: FakeResponsesServer
) -> None:
    async with editor_session(tmp_path, fake, "vscode") as ed:
        (ed.root / "src").mkdir()
        fd = os.open(os.fsencode(ed.root / "src") + b"/" + LATIN1_NAME, os.O_CREAT | os.O_WRONLY)
        os.close(fd)
        uri = ed.open("src/app.py", "x = '\ud83d'\n")
        load(
            fake,
            [
                {
                    "output": [
                        {"type": "message", "text": "thinking \ud800 aloud"},
                        *call("list_dir", {"path": "src"})["output"],
                        *call("read_file", {"path": "src/app.py"})["output"],
                    ]
                },
                say("done \udbff here"),
            ],
            [say("second turn")],
        )
        first = await ed.execute("codex.ask", {"prompt": "look at \ud800 this", "uri": uri})
        assert first["status"] == "completed", first
        second = await ed.execute("codex.ask", {"prompt": "and again", "threadId": first["threadId"]})
        assert second["status"] == "completed", second
        assert second["message"] == "second turn"

    listing = outputs(fake)[0]
    assert "caf\\xe9.txt" in listing, listing
    sent = "\n".join(user_texts(fake))
    assert "look at \\ud800 this" in sent
    thread = ThreadStore(tmp_path / "state").load(first["threadId"])
    assert thread is not None, "the thread file is readable"
    assert thread.turns == 2
    assert thread.prompts == ["look at \\ud800 this", "and again"]
    saved = "\n".join(strings(thread.history))
    for escaped in ("thinking \\ud800 aloud", "done \\udbff here", "caf\\xe9.txt", "x = '\\ud83d'"):
        assert escaped in saved, escaped


def strings(value: object) -> list[str]:
    """Every string in a JSON-like value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []
