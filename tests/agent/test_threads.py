"""Thread files: written as the turn goes, listed and resumed, damage reported and never fatal."""

from __future__ import annotations

import json
from pathlib import Path

from codex_lsp.agent.threads import ThreadStore


def _item(text: str) -> dict[str, object]:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


def test_a_thread_round_trips_through_its_file(tmp_path: Path) -> None:
    store = ThreadStore(tmp_path)
    thread = store.create("/work/project")
    thread.append("t1", [_item("hello")])
    thread.finish_turn("t1", "completed", "hello")
    loaded = ThreadStore(tmp_path).load(thread.id)
    assert loaded is not None
    assert (loaded.id, loaded.cwd, loaded.turns, loaded.history) == (
        thread.id,
        "/work/project",
        1,
        [_item("hello")],
    )
    (summary,) = ThreadStore(tmp_path).list()
    assert (summary.id, summary.title, summary.turns) == (thread.id, "hello", 1)


def test_a_truncated_last_line_is_dropped_with_a_warning(tmp_path: Path) -> None:
    store = ThreadStore(tmp_path)
    thread = store.create("/p")
    thread.append("t1", [_item("kept")])
    path = tmp_path / "threads" / f"{thread.id}.jsonl"
    with path.open("a", encoding="utf-8") as stream:
        stream.write('{"kind": "item", "turn_id": "t1", "item": {"type": "mess')
    fresh = ThreadStore(tmp_path)
    loaded = fresh.load(thread.id)
    assert loaded is not None
    assert loaded.history == [_item("kept")]
    assert any("cut short" in warning for warning in fresh.warnings)


def test_a_damaged_file_is_skipped_and_reported_and_others_still_list(tmp_path: Path) -> None:
    store = ThreadStore(tmp_path)
    good = store.create("/p")
    good.finish_turn("t1", "completed", "fine")
    bad = store.create("/p")
    path = tmp_path / "threads" / f"{bad.id}.jsonl"
    path.write_text(path.read_text() + "this is not json\n" + json.dumps({"kind": "turn"}) + "\n")
    (tmp_path / "threads" / "binary.jsonl").write_bytes(b"\xff\xfe\x00garbage")
    fresh = ThreadStore(tmp_path)
    assert [s.id for s in fresh.list()] == [good.id]
    assert fresh.load(bad.id) is None
    assert any(bad.id in warning and "damaged" in warning for warning in fresh.warnings)
    assert any("binary.jsonl" in warning for warning in fresh.warnings)


def test_ids_cannot_name_files_outside_the_store(tmp_path: Path) -> None:
    (tmp_path / "secret.jsonl").write_text("{}\n")
    assert ThreadStore(tmp_path / "state").load("../secret") is None
