"""Codex's model catalog as data: the shipped file against the pinned binary, and each model's request.

- ``catalog.json`` is regenerated from ``codex debug models --bundled`` and must equal the shipped file;
- for every catalog model (and names that reach an entry by prefix or namespace, names that do not, and
  the settings the catalog interprets: ``ultra``, service tiers, web search options) the pinned Codex's
  first request carries the same ``reasoning``, ``include``, ``text``, ``parallel_tool_calls``,
  ``service_tier``, hosted web search tool and freeform tools as the request codex-lsp builds from the
  same ``$CODEX_HOME`` and arguments, and Codex's warnings about the model are ours;
- the rules themselves, without the binary; and the file is read on first use, never at import.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from codex_lsp.model import ConfigRequest, load_settings
from codex_lsp.model.catalog import (
    CATALOG_FILE,
    FALLBACK,
    default_model,
    effective_effort,
    find_model,
    model_info,
    project,
    service_tier,
    unknown_model_warning,
    web_search_tool,
)
from codex_lsp.testing import (
    CODEX_KEY,
    FakeResponsesServer,
    Script,
    codex_models,
    make_codex_home,
)
from tests.model.codex_peer import codex_exec, needs_codex

SHIPPED: dict[str, Any] = json.loads(CATALOG_FILE.read_text(encoding="utf-8"))
SLUGS = [entry["slug"] for entry in SHIPPED["models"]]
MODEL_WARNINGS = ("Model metadata for", "Configured service tier")
"""The warnings the catalog decides (Codex shows them as ``error`` items of ``exec --json``)."""


# -- the rules, without the binary ---------------------------------------------------------------------------


def test_an_entry_is_found_by_the_longest_slug_that_begins_the_name() -> None:
    assert find_model("gpt-5.5") is not None
    assert model_info("gpt-5.5-2026-01-01").slug == "gpt-5.5"
    assert model_info("gpt-6.1-sol-preview").slug == "gpt-6.1-sol"
    assert model_info("openai/gpt-5.5").slug == "gpt-5.5", "one namespace is looked through"
    assert find_model("a/b/gpt-5.5") is None, "two are not"
    assert find_model("GPT-5.5") is None, "case matters"
    assert model_info("qwen3-coder:30b") == FALLBACK


def test_the_default_model_is_the_listed_one_of_lowest_priority() -> None:
    raw = {
        "models": [
            {"slug": "hidden", "visibility": "hide", "priority": 0, "supported_reasoning_levels": []},
            {"slug": "second", "visibility": "list", "priority": 2, "supported_reasoning_levels": []},
            {"slug": "first", "visibility": "list", "priority": 1, "supported_reasoning_levels": []},
        ]
    }
    assert project(raw, "codex-cli 0")["default_model"] == "first"
    assert default_model() == SHIPPED["default_model"]


def test_unknown_models_get_codexs_warning() -> None:
    assert unknown_model_warning("gpt-5.5") is None
    assert unknown_model_warning("qwen3-coder:30b") == (
        "Model metadata for `qwen3-coder:30b` not found. Defaulting to fallback metadata; this can degrade "
        "performance and cause issues."
    )


def test_ultra_becomes_the_multi_agent_effort_else_the_highest_other_level() -> None:
    assert effective_effort(model_info("gpt-6.1-sol"), "ultra") == "xhigh"
    assert effective_effort(model_info("gpt-6-luna"), "ultra") == "max"
    assert effective_effort(model_info("gpt-5.5"), "ultra") == "xhigh"
    assert effective_effort(FALLBACK, "ultra") == "medium"
    assert effective_effort(model_info("gpt-5.5"), None) == "medium"
    assert effective_effort(FALLBACK, None) is None


def test_service_tiers() -> None:
    sol = model_info("gpt-5.5")
    assert service_tier(sol, "fast") == ("priority", None)
    assert service_tier(FALLBACK, "flex") == ("flex", None)
    assert service_tier(sol, "default") == (None, None)
    tier, warning = service_tier(model_info("gpt-daybreak-blue-latest"), "fast")
    assert tier is None
    assert warning == (
        "Configured service tier `priority` is not advertised as supported for model "
        "`gpt-daybreak-blue-latest` and will be omitted from requests."
    )


def test_the_web_search_tool() -> None:
    info = model_info("gpt-5.5")
    cached = {"type": "web_search", "external_web_access": False, "search_content_types": ["text", "image"]}
    assert web_search_tool(info, None) == cached
    assert web_search_tool(info, None, full_access=True) == {**cached, "external_web_access": True}
    assert web_search_tool(info, "disabled", full_access=True) is None
    assert web_search_tool(model_info("gpt-6.1-sol"), "live") is None, "Responses Lite: no hosted tool"
    assert web_search_tool(FALLBACK, "live") == {"type": "web_search", "external_web_access": True}


def test_the_catalog_is_read_on_first_use_not_at_import() -> None:
    """Start-up: importing every host's modules, or building the settings' classes, reads no JSON."""
    code = (
        "import codex_lsp.cli, codex_lsp.headless, codex_lsp.lsp.server, codex_lsp.acp.server\n"
        "from codex_lsp.model import catalog\n"
        "assert catalog._catalog.cache_info().currsize == 0\n"
        "catalog.default_model()\n"
        "assert catalog._catalog.cache_info().currsize == 1\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# -- against the pinned Codex --------------------------------------------------------------------------------


@needs_codex
def test_catalog_json_is_the_pinned_codexs_catalog() -> None:
    version, raw = codex_models()
    assert project(raw, version) == SHIPPED, (
        "the pinned Codex's catalog changed: run `.venv/bin/python tools/update_model_catalog.py`"
    )


CASES: list[tuple[str, tuple[str, ...]]] = [
    *((slug, ()) for slug in SLUGS),
    ("gpt-5.5-2026-01-01", ()),
    ("openai/gpt-5.5", ()),
    ("a/b/gpt-5.5", ()),
    ("GPT-5.5", ()),
    ("qwen3-coder:30b", ()),
    ("qwen3-coder:30b", ('model_reasoning_summary="none"', 'model_verbosity="high"', 'service_tier="flex"')),
    ("gpt-6.1-sol", ('model_reasoning_effort="ultra"',)),
    ("gpt-6.1-sol", ('model_reasoning_effort="max"',)),
    ("gpt-5.5", ('model_reasoning_effort="none"',)),
    ("gpt-5.5", ('model_reasoning_effort="minimal"', 'model_reasoning_summary="concise"')),
    ("gpt-6-luna", ('model_reasoning_effort="ultra"',)),
    ("gpt-5.5", ('model_reasoning_effort="ultra"', 'service_tier="bogus"')),
    ("qwen3-coder:30b", ('model_reasoning_effort="ultra"',)),
    ("gpt-daybreak-blue-latest", ('service_tier="fast"',)),
    ("gpt-5.5", ('service_tier="default"', 'model_reasoning_summary="auto"', 'model_verbosity="medium"')),
    (
        "gpt-5.5",
        (
            'web_search="indexed"',
            'tools.web_search={context_size="high", allowed_domains=["example.com"], '
            'location={country="US", city="Boston"}}',
        ),
    ),
]
COMPARED = ("reasoning", "include", "text", "parallel_tool_calls", "service_tier")


def _ours(home: Path, model: str, overrides: tuple[str, ...]) -> tuple[dict[str, Any], set[str]]:
    """The fields codex-lsp's request carries for this configuration, and its model warnings."""
    settings = load_settings(
        home, {"FAKE_KEY": CODEX_KEY}, request=ConfigRequest(overrides=overrides, flags={"model": model})
    )
    fields = settings.request_fields(settings.model)
    form = model_info(settings.model).apply_patch
    body = {**fields, "custom_tools": ["apply_patch"] if form == "freeform" else []}
    warnings = {w for w in settings.config_warnings if w.startswith(MODEL_WARNINGS)}
    return body, warnings


async def _codex(root: Path, model: str, overrides: tuple[str, ...]) -> tuple[Path, dict[str, Any], set[str]]:
    script = Script.model_validate(
        {"turns": [{"requests": [{"output": [{"type": "message", "text": "ok"}]}]}]}
    )
    (root / "ws").mkdir(parents=True)
    async with FakeResponsesServer(script) as fake:
        home = make_codex_home(root, fake.base_url, websockets=False)
        args = ("-m", model, *(arg for override in overrides for arg in ("-c", override)))
        code, events, err = await codex_exec(home, root / "ws", "say hi", args=args)
        assert code == 0, err[-2000:]
        body = dict(fake.generating_requests()[0].body)
    tools = body.get("tools")
    body["tools"] = [tool for tool in tools or [] if tool["type"] == "web_search"]
    if tools is not None:  # Responses Lite models get their tools another way (not compared)
        body["custom_tools"] = sorted(tool["name"] for tool in tools if tool["type"] == "custom")
    items = [event.get("item") or {} for event in events]
    warnings = {str(i["message"]) for i in items if i.get("type") == "error"}
    return home, body, {w for w in warnings if w.startswith(MODEL_WARNINGS)}


@needs_codex
async def test_every_model_gets_codexs_request_fields(tmp_path: Path) -> None:
    gate = asyncio.Semaphore(4)

    async def one(index: int, model: str, overrides: tuple[str, ...]) -> list[str]:
        async with gate:
            home, theirs, their_warnings = await _codex(tmp_path / f"case{index}", model, overrides)
        ours, our_warnings = _ours(home, model, overrides)
        keys = [*COMPARED, "tools", *(["custom_tools"] if "custom_tools" in theirs else [])]
        found = [
            f"{key}: codex {theirs.get(key)!r}, ours {ours.get(key)!r}"
            for key in keys
            if theirs.get(key) != ours.get(key)
        ]
        if their_warnings != our_warnings:
            found.append(f"warnings: codex {their_warnings}, ours {our_warnings}")
        return [f"{model} {' '.join(overrides)}: {line}" for line in found]

    found = await asyncio.gather(*(one(i, model, overrides) for i, (model, overrides) in enumerate(CASES)))
    assert not [line for lines in found for line in lines], "\n".join(
        line for lines in found for line in lines
    )
