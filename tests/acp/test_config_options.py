"""Configuration options (``configOptions``, ``session/set_config_option``): the session's modes, model and
reasoning effort for clients that read options only (CodeCompanion.nvim does), kept in step with the modes.

Compared with Zed's codex-acp 0.16.0 (``session/new`` against the fake server, same throwaway home): it
offers ``mode`` (category ``mode``, its own approval presets), ``model`` (``model``) and
``reasoning_effort`` (``thought_level``), all ``select``; ``session/set_config_option`` answers the whole
set; ``session/set_mode`` sends a ``config_option_update`` (and no ``current_mode_update``), but
``session/set_config_option`` of the mode sends no ``current_mode_update``, so a client that reads modes
misses it. We keep its ids and categories,
offer our own modes under them, and report a mode change both ways whichever request made it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from acp import RequestError, text_block

from tests.acp.harness import Run, patch_call, say, setup, step
from tests.acp.test_edits import UPDATE_A, statuses
from tests.acp.test_permissions import configure
from tests.agent.harness import outputs


def dumped(options: Any) -> list[dict[str, Any]]:
    return [option.model_dump(mode="json", by_alias=True, exclude_none=True) for option in options]


def by_id(options: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {option["id"]: option for option in options}


def values(option: dict[str, Any]) -> list[str]:
    return [choice["value"] for choice in option["options"]]


def current(options: list[dict[str, Any]]) -> dict[str, str]:
    return {option["id"]: option["currentValue"] for option in options}


async def set_option(run: Run, session: str, config_id: str, value: str) -> list[dict[str, Any]]:
    response = await run.conn.set_config_option(session_id=session, config_id=config_id, value=value)
    return dumped(response.config_options)


async def test_a_new_session_offers_its_modes_model_and_effort_as_options(tmp_path: Path) -> None:
    async with setup(tmp_path) as s, s.agent() as run:
        response = await run.conn.new_session(cwd=str(s.root), mcp_servers=[])
    assert response.modes is not None
    options = by_id(dumped(response.config_options))
    assert list(options) == ["mode", "model", "reasoning_effort"]
    assert [(o["category"], o["type"]) for o in options.values()] == [
        ("mode", "select"),
        ("model", "select"),
        ("thought_level", "select"),
    ]
    mode = options["mode"]
    assert values(mode) == [m.id for m in response.modes.available_modes] == ["auto", "review", "read-only"]
    assert [c["name"] for c in mode["options"]] == [m.name for m in response.modes.available_modes]
    assert mode["currentValue"] == response.modes.current_mode_id == "auto"
    model = options["model"]
    assert model["currentValue"] == "gpt-5.5", "the configured model"
    assert values(model)[0] == "gpt-6.1-sol", "Codex's picker order: its default first"
    assert "gpt-5.5" in values(model)
    assert "codex-auto-review" not in values(model), "models Codex hides are not offered"
    effort = options["reasoning_effort"]
    assert (effort["currentValue"], values(effort)) == ("medium", ["low", "medium", "high", "xhigh"])


async def test_read_only_chosen_as_an_option_refuses_edits_as_set_mode_does(tmp_path: Path) -> None:
    async with setup(tmp_path) as s:
        a = s.root / "a.py"
        a.write_text("value = 1\n", encoding="utf-8")
        async with s.agent() as run:
            run.load([step(patch_call(UPDATE_A)), step(say("I would change value to 2."))])
            session = await run.new_session()
            options = await set_option(run, session, "mode", "read-only")
            response = await run.conn.prompt(session_id=session, prompt=[text_block("bump it")])
    assert current(options)["mode"] == "read-only"
    assert response.stop_reason == "end_turn"
    assert a.read_text(encoding="utf-8") == "value = 1\n"
    assert run.editor.writes == []
    assert statuses(run) == ["failed"]
    assert "read-only mode" in outputs(run.generating[-1])[0]
    assert [u["currentModeId"] for u in run.editor.of_kind("current_mode_update")] == ["read-only"], (
        "a client that reads modes hears of it"
    )


async def test_review_chosen_as_an_option_asks_and_allow_all_is_reported_both_ways(tmp_path: Path) -> None:
    async with setup(tmp_path) as s:
        (s.root / "a.py").write_text("value = 1\n", encoding="utf-8")
        async with s.agent() as run:
            run.editor.permissions = ["allow-always"]
            run.load([step(patch_call(UPDATE_A)), step(say("Done."))])
            session = await run.new_session()
            await set_option(run, session, "mode", "review")
            response = await run.conn.prompt(session_id=session, prompt=[text_block("bump it")])
    assert response.stop_reason == "end_turn"
    [asked] = run.editor.asked
    assert asked["written"] == 0, "review mode asked before writing"
    assert run.editor.writes == [(str(s.root / "a.py"), "value = 2\n")]
    modes = [u["currentModeId"] for u in run.editor.of_kind("current_mode_update")]
    options = [current(u["configOptions"])["mode"] for u in run.editor.of_kind("config_option_update")]
    assert modes == options == ["review", "auto"], "each change, whoever made it, reported both ways"


async def test_set_mode_updates_the_mode_option(tmp_path: Path) -> None:
    async with setup(tmp_path) as s, s.agent() as run:
        session = await run.new_session()
        await run.conn.set_session_mode(session_id=session, mode_id="read-only")
        update = await run.editor.until(lambda u: u.get("sessionUpdate") == "config_option_update")
        options = await set_option(run, session, "model", "gpt-6-luna")
    assert current(update["configOptions"]) == {
        "mode": "read-only",
        "model": "gpt-5.5",
        "reasoning_effort": "medium",
    }
    assert current(options)["mode"] == "read-only", "later answers keep the mode set with set_mode"


async def test_the_model_and_effort_chosen_go_into_the_next_request(tmp_path: Path) -> None:
    async with setup(tmp_path) as s, s.agent() as run:
        run.load([step(say("One."))], [step(say("Two."))], [step(say("Three."))])
        session = await run.new_session()
        await run.conn.prompt(session_id=session, prompt=[text_block("first")])
        await set_option(run, session, "model", "gpt-6.1-sol")
        options = await set_option(run, session, "reasoning_effort", "ultra")
        await run.conn.prompt(session_id=session, prompt=[text_block("second")])
        switched = await set_option(run, session, "model", "gpt-6-luna")
        await run.conn.prompt(session_id=session, prompt=[text_block("third")])
    sent = [(r.body["model"], r.body["reasoning"].get("effort")) for r in run.generating]
    assert sent == [("gpt-5.5", "medium"), ("gpt-6.1-sol", "xhigh"), ("gpt-6-luna", "medium")], (
        "ultra is sent as the model's multi-agent level; a model without the chosen level gets its default"
    )
    assert current(options) == {"mode": "auto", "model": "gpt-6.1-sol", "reasoning_effort": "ultra"}
    assert values(by_id(options)["reasoning_effort"])[-2:] == ["max", "ultra"], "the new model's levels"
    assert current(switched)["reasoning_effort"] == "medium"
    assert "ultra" not in values(by_id(switched)["reasoning_effort"])
    assert "Three." in run.editor.text(), "the thread went on across the switches"
    assert "first" in str(run.generating[-1].effective_input), "one thread: the history went along"


async def test_a_model_codex_does_not_know_is_offered_alone(tmp_path: Path) -> None:
    async with setup(tmp_path) as s:
        config = s.home / "config.toml"
        config.write_text(config.read_text().replace('model = "gpt-5.5"', 'model = "qwen-local"'))
        async with s.agent() as run:
            plain = dumped((await run.conn.new_session(cwd=str(s.root), mcp_servers=[])).config_options)
        configure(s, 'model_reasoning_effort = "high"')
        async with s.agent() as run:
            effort = dumped((await run.conn.new_session(cwd=str(s.root), mcp_servers=[])).config_options)
    assert [o["id"] for o in plain] == ["mode", "model"], "no levels are known for it"
    assert values(by_id(plain)["model"]) == ["qwen-local"]
    assert current(effort)["reasoning_effort"] == "high"
    assert values(by_id(effort)["reasoning_effort"]) == ["none", "minimal", "low", "medium", "high", "xhigh"]


REFUSALS: list[tuple[str, str | bool, str]] = [
    ("colour", "blue", "unknown option 'colour'"),
    ("mode", "yolo", "'yolo' is not a value of option 'mode'; the values are auto, review, read-only"),
    ("model", "gpt-4", "'gpt-4' is not a value of option 'model'"),
    ("reasoning_effort", "max", "'max' is not a value of option 'reasoning_effort'"),
    ("mode", True, "option 'mode' takes one of its values, not a boolean"),
]


async def test_an_unknown_option_or_value_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    async with setup(tmp_path) as s, s.agent() as run:
        session = await run.new_session()
        for config_id, value, message in REFUSALS:
            with pytest.raises(RequestError, match=message):
                await run.conn.set_config_option(session_id=session, config_id=config_id, value=value)
        options = await set_option(run, session, "mode", "auto")
    assert current(options) == {"mode": "auto", "model": "gpt-5.5", "reasoning_effort": "medium"}
    assert run.editor.of_kind("current_mode_update") == [
        {"sessionUpdate": "current_mode_update", "currentModeId": "auto"}
    ], "only the one accepted change was reported"


async def test_load_session_offers_the_options_too(tmp_path: Path) -> None:
    async with setup(tmp_path) as s:
        async with s.agent() as first:
            first.load([step(say("Hi."))])
            session = await first.new_session()
            await first.conn.prompt(session_id=session, prompt=[text_block("hello")])
        async with s.agent() as second:
            loaded = await second.conn.load_session(cwd=str(s.root), session_id=session, mcp_servers=[])
    assert [o["id"] for o in dumped(loaded.config_options)] == ["mode", "model", "reasoning_effort"]
