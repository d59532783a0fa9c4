"""``codex-lsp exec --json`` against the pinned ``codex exec --json``: the same scripted turns, event by
event.

Each scenario runs the pinned Codex CLI and codex-lsp as processes, each against its own fake Responses
server loaded with the same script, the same kind of throwaway ``CODEX_HOME`` and the same files, and
compares the whole JSONL sequences: event types and order, item ids and types, the fields each item
carries, the texts, statuses, exit codes, file paths and kinds, and the usage numbers (scripted distinct
per field, so a swapped field shows). Only the values that are random per run are replaced first (the
thread id) and file paths are made relative to the workspace.

Differences by design, each applied explicitly below (anything else fails):

- ``usage.cache_write_input_tokens``: codex-lsp does not count cache writes (its turn totals have no such
  field); Codex's value is checked to be the scripted one, then set aside.
- the text of a failed turn (``error`` and ``turn.failed``): the model layer words its errors itself (e.g.
  ``context_length_exceeded``); both sides must have the events, with a non-empty message.
- retry notices: the same ``{"type":"error","message":"Reconnecting... 1/N (…)"}`` event for a stream that
  broke; N and the reason are the transport's (its retry budget and error text), so the message is compared
  up to the attempt number. A request refused before its stream starts (an HTTP 5xx) is retried silently
  by Codex and with the same notice by codex-lsp (the transport's notices do not tell the two apart), so
  that case is not compared.
- a configuration warning: Codex 0.169 prints each one twice (two ``error`` items with the same text);
  codex-lsp once. The text is the same.
- the shell tool: Codex offers ``exec_command`` (``{"cmd": …}``, run by the user's shell with ``-lc``),
  codex-lsp ``shell`` (an argv, with ``--shell``); the script differs in that call only — codex-lsp is asked
  to run exactly the argv Codex ran, and the events must then be equal.

Not comparable here: ``todo_list`` (Codex 0.169 offers no plan tool to ``gpt-5.5``; the shape is checked in
tests/agent/test_exec_json_events.py) and a declined command (Codex's exec never asks).
"""

from __future__ import annotations

import copy
import shlex
from pathlib import Path
from typing import Any

from codex_lsp.testing import FakeResponsesServer, Script, make_codex_home
from tests.agent.exec_process import ours_exec
from tests.model.codex_peer import codex_exec, needs_codex

pytestmark = needs_codex

PROMPT = "do the task"
FILES = {"a.txt": "one\ntwo\n", "b.txt": "bee\n", "c.txt": "sea\n"}


def usage(inputs: int, cached: int, cache_write: int, outputs: int, reasoning: int) -> dict[str, Any]:
    """A response's ``usage`` with every count different, so that a swapped field cannot pass."""
    return {
        "input_tokens": inputs,
        "input_tokens_details": {"cached_tokens": cached, "cache_write_tokens": cache_write},
        "output_tokens": outputs,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": inputs + outputs,
    }


def say(text: str, phase: str = "final_answer") -> dict[str, Any]:
    return {"type": "message", "text": text, "phase": phase}


def patch(text: str) -> dict[str, Any]:
    return {"type": "custom_tool_call", "name": "apply_patch", "input": text}


def _make(folder: Path) -> None:
    folder.mkdir()


async def _side(
    peer: str, root: Path, steps: list[dict[str, Any]], *, top: str = "", args: tuple[str, ...] = ()
) -> tuple[int, list[dict[str, Any]], str, Path]:
    """Run one peer on a fresh workspace and its own fake server; its exit code, events, stderr and
    workspace."""
    _make(root)
    async with FakeResponsesServer(Script.model_validate({"turns": [{"requests": steps}]})) as fake:
        home = make_codex_home(root, fake.base_url, websockets=False, top=top)
        work = root / "work"
        work.mkdir()
        for name, text in FILES.items():
            (work / name).write_text(text)
        if peer == "codex":
            code, events, err = await codex_exec(home, work, PROMPT)
        else:
            run = await ours_exec(home, work, PROMPT, "--skip-git-repo-check", *args)
            code, events, err = run.code, run.events, run.stderr
    return code, events, err, work.resolve()


def normalized(events: list[dict[str, Any]], work: Path) -> list[dict[str, Any]]:
    """``events`` with the thread id replaced, file paths relative to ``work`` (checked absolute) and the
    run's own folder (``CODEX_HOME``'s parent) written ``<root>`` in messages."""
    shown = copy.deepcopy(events)
    for event in shown:
        item = event.get("item", {})
        if "message" in item:
            item["message"] = item["message"].replace(str(work.parent), "<root>")
        if event["type"] == "thread.started":
            assert isinstance(event["thread_id"], str)
            assert event["thread_id"]
            event["thread_id"] = "<thread>"
        for change in event.get("item", {}).get("changes", []):
            path = Path(change["path"])
            assert path.is_absolute(), change
            change["path"] = str(path.relative_to(work))
    return shown


def without_cache_writes(events: list[dict[str, Any]], expected: int) -> list[dict[str, Any]]:
    """Codex's events without ``usage.cache_write_input_tokens`` (checked to be ``expected`` first)."""
    for event in events:
        if event["type"] == "turn.completed":
            assert event["usage"].pop("cache_write_input_tokens") == expected
    return events


async def _compare(
    tmp_path: Path, steps: list[dict[str, Any]], *, top: str = ""
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int, int]:
    codex_code, codex_events, codex_err, codex_work = await _side("codex", tmp_path / "codex", steps, top=top)
    our_code, our_events, our_err, our_work = await _side("ours", tmp_path / "ours", steps, top=top)
    assert codex_events, codex_err[-2000:]
    assert our_events, our_err[-2000:]
    return normalized(codex_events, codex_work), normalized(our_events, our_work), codex_code, our_code


async def test_messages_and_reasoning_are_the_same_events(tmp_path: Path) -> None:
    steps = [
        {
            "output": [
                {"type": "reasoning", "summary": ["**Reading** the task", "**Answering** it"]},
                {"type": "reasoning", "summary": []},
                say("Looking at it.", "commentary"),
                say("Hello there."),
            ],
            "usage": usage(1000, 300, 50, 70, 9),
        }
    ]
    theirs, ours, codex_code, our_code = await _compare(tmp_path, steps)
    assert our_code == codex_code == 0
    assert ours == without_cache_writes(theirs, 50)
    assert [e["type"] for e in ours] == [
        "thread.started",
        "turn.started",
        "item.completed",
        "item.completed",
        "item.completed",
        "turn.completed",
    ]
    assert ours[-1]["usage"] == {
        "input_tokens": 1000,
        "cached_input_tokens": 300,
        "output_tokens": 70,
        "reasoning_output_tokens": 9,
    }


async def test_patches_are_the_same_file_change_items(tmp_path: Path) -> None:
    """Several files in one patch (in no particular order: both sort them), a move, a delete; then a patch
    that does not match (no item on either side); usage summed over the turn's three responses."""
    applied = (
        "*** Begin Patch\n*** Add File: z.txt\n+zed\n*** Update File: c.txt\n*** Move to: d.txt\n@@\n-sea\n"
        "+SEA\n*** Delete File: b.txt\n*** Update File: a.txt\n@@\n-two\n+TWO\n*** End Patch\n"
    )
    unmatched = "*** Begin Patch\n*** Update File: a.txt\n@@\n-not there\n+x\n*** End Patch\n"
    steps = [
        {"output": [say("Editing.", "commentary"), patch(applied)], "usage": usage(100, 10, 1, 20, 2)},
        {"output": [patch(unmatched)], "usage": usage(200, 20, 2, 30, 3)},
        {"output": [say("Done.")], "usage": usage(300, 30, 3, 40, 4)},
    ]
    theirs, ours, codex_code, our_code = await _compare(tmp_path, steps)
    assert our_code == codex_code == 0
    assert ours == without_cache_writes(theirs, 6)
    started = next(e for e in ours if e["type"] == "item.started")
    assert started["item"]["type"] == "file_change"
    assert started["item"]["changes"] == [
        {"path": "a.txt", "kind": "update"},
        {"path": "b.txt", "kind": "delete"},
        {"path": "c.txt", "kind": "update"},
        {"path": "z.txt", "kind": "add"},
    ]
    assert ours[-1]["usage"] == {
        "input_tokens": 600,
        "cached_input_tokens": 60,
        "output_tokens": 90,
        "reasoning_output_tokens": 9,
    }


async def test_a_command_is_the_same_command_execution_item(tmp_path: Path) -> None:
    """Codex runs ``exec_command``; codex-lsp is then asked (``shell``) for exactly the argv Codex ran."""
    script = "echo hi; echo oops >&2; exit 3"
    answer = {"output": [say("It failed with 3.")], "usage": usage(50, 5, 0, 6, 1)}
    codex_call = {"type": "function_call", "name": "exec_command", "arguments": {"cmd": script}}
    codex_code, codex_events, err, codex_work = await _side(
        "codex", tmp_path / "codex", [{"output": [codex_call]}, answer]
    )
    assert codex_code == 0, err[-2000:]
    theirs = normalized(codex_events, codex_work)
    (command,) = {
        e["item"]["command"] for e in theirs if e.get("item", {}).get("type") == "command_execution"
    }
    argv = shlex.split(command)
    assert argv[1:] == ["-lc", script]
    our_call = {"type": "function_call", "name": "shell", "arguments": {"command": argv}}
    our_code, our_events, err, our_work = await _side(
        "ours", tmp_path / "ours", [{"output": [our_call]}, answer], args=("--shell", "--allow", argv[0])
    )
    assert our_code == 0, err[-2000:]
    ours = normalized(our_events, our_work)
    # Codex reads stdout and stderr through two pipes, so how "hi" and "oops" interleave in its
    # aggregate depends on scheduling (seen both ways on a loaded machine); ours is one pipe, in order.
    assert _lines_unordered(ours) == _lines_unordered(without_cache_writes(theirs, 0))
    completed = next(e["item"] for e in ours if e["type"] == "item.completed")
    assert completed == {
        "id": "item_0",
        "type": "command_execution",
        "command": command,
        "aggregated_output": "hi\noops\n",
        "exit_code": 3,
        "status": "failed",
    }


def _lines_unordered(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``events`` with each command's aggregated output as its sorted lines."""
    out = []
    for event in events:
        item = event.get("item")
        if isinstance(item, dict) and isinstance(item.get("aggregated_output"), str):
            lines = sorted(item["aggregated_output"].splitlines(keepends=True))
            out.append({**event, "item": {**item, "aggregated_output": lines}})
        else:
            out.append(event)
    return out


async def test_a_failed_turn_ends_with_error_and_turn_failed(tmp_path: Path) -> None:
    steps = [{"output": [say("x")], "fault": {"kind": "failed", "code": "context_length_exceeded"}}]
    theirs, ours, codex_code, our_code = await _compare(tmp_path, steps)
    assert our_code == codex_code == 1
    assert [e["type"] for e in ours] == [e["type"] for e in theirs]
    assert [e["type"] for e in ours] == ["thread.started", "turn.started", "error", "turn.failed"]
    for events in (theirs, ours):
        error, failed = events[2:]
        assert set(error) == {"type", "message"}
        assert error["message"]
        assert failed == {"type": "turn.failed", "error": {"message": error["message"]}}


async def test_a_retry_is_an_error_event_and_the_turn_goes_on(tmp_path: Path) -> None:
    steps = [
        {"output": [say("lost")], "fault": {"kind": "failed", "code": "server_error", "after_events": 4}},
        {"output": [say("Recovered.")], "usage": usage(10, 1, 0, 2, 0)},
    ]
    theirs, ours, codex_code, our_code = await _compare(tmp_path, steps)
    assert our_code == codex_code == 0

    def attempt_only(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for event in events:
            if event["type"] == "error":
                assert event["message"].startswith("Reconnecting... 1/"), event
                event["message"] = "Reconnecting... 1/"
        return events

    assert attempt_only(ours) == attempt_only(without_cache_writes(theirs, 0))
    assert [e["type"] for e in ours][2:4] == ["error", "item.completed"]


async def test_a_configuration_warning_is_an_error_item_before_the_turn(tmp_path: Path) -> None:
    steps = [{"output": [say("ok")], "usage": usage(10, 1, 0, 2, 0)}]
    theirs, ours, codex_code, our_code = await _compare(tmp_path, steps, top="bogus_setting = 1")
    assert our_code == codex_code == 0
    warnings = [e for e in theirs if e.get("item", {}).get("type") == "error"]
    assert len(warnings) == 2
    assert warnings[0]["item"]["message"] == warnings[1]["item"]["message"]
    once = [e for e in theirs if e is not warnings[1]]
    for number, event in enumerate(e for e in once if "item" in e):
        event["item"]["id"] = f"item_{number}"
    assert ours == without_cache_writes(once, 0)
    assert "`bogus_setting` is ignored." in ours[1]["item"]["message"]
