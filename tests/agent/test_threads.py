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


def test_a_state_dir_that_is_a_file_keeps_threads_in_memory_with_a_warning(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.write_text("a file\n")
    heard: list[str] = []
    store = ThreadStore(state, on_warning=heard.append)
    thread = store.create("/p")
    thread.append("t1", [_item("hello")])
    thread.finish_turn("t1", "completed", "hello")
    assert not thread.saved
    assert thread.history == [_item("hello")]
    (warning,) = heard
    assert warning.startswith(
        f"cannot save threads in {state / 'threads'} ({state / 'threads'}: Not a directory)"
    )
    assert store.warnings == heard
    assert store.list() == []


def test_a_failed_append_stops_saving_the_thread_but_not_the_turn(tmp_path: Path) -> None:
    heard: list[str] = []
    store = ThreadStore(tmp_path, on_warning=heard.append)
    thread = store.create("/p")
    assert thread.saved
    path = tmp_path / "threads" / f"{thread.id}.jsonl"
    path.unlink()
    path.mkdir()  # any later write fails
    thread.append("t1", [_item("one")])
    thread.append("t1", [_item("two")])
    assert not thread.saved
    assert thread.history == [_item("one"), _item("two")]
    (warning,) = heard
    assert warning == f"cannot write {path} ({path}: Is a directory); the rest of this thread is not saved"


def test_a_turn_title_is_the_prompt_up_to_its_limit_then_cut_and_marked() -> None:
    from codex_lsp.agent.threads import TITLE_MAX_CHARS, turn_title

    exact = "p" * TITLE_MAX_CHARS
    assert turn_title(exact) is exact
    longer = exact + "q"
    assert turn_title(longer) == "p" * (TITLE_MAX_CHARS - 1) + "…"
    assert len(turn_title(longer * 1000)) == TITLE_MAX_CHARS


def test_the_turn_record_keeps_a_title_not_the_prompt_again(tmp_path: Path) -> None:
    thread = ThreadStore(tmp_path).create("/p")
    prompt = "y" * 10_000 + "TAIL"
    thread.append("t1", [_item(prompt)])
    thread.finish_turn("t1", "completed", prompt)
    raw = (tmp_path / "threads" / f"{thread.id}.jsonl").read_text()
    assert raw.count("TAIL") == 1
    loaded = ThreadStore(tmp_path).load(thread.id)
    assert loaded is not None
    assert loaded.history == [_item(prompt)]
