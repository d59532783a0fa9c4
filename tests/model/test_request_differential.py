"""The first request, codex-lsp against the pinned Codex, for every row of the configuration table.

Each row is one configuration (a ``$CODEX_HOME`` with its config.toml, profile file and AGENTS.md files, a
workspace, and the same ``-m`` / ``-c`` / ``-p`` arguments) given to ``codex exec`` (Codex 0.169.0) and to
``codex-lsp exec``, each against its own fake Responses server; the first request bodies are then compared
field by field, with each side's temporary folder written as ``<root>``:

- every top-level field is present on both sides or on neither, and equal — ``model``, ``reasoning``,
  ``include``, ``text``, ``service_tier``, ``parallel_tool_calls``, ``store``, ``stream``,
  ``tool_choice`` — except the ids (``prompt_cache_key``, ``client_metadata``'s values: random per run;
  the metadata keys are compared) and ``tools`` and ``input``, compared as below;
- ``tools``: the hosted web search tool is equal (or absent on both); Codex's ``custom`` (freeform)
  tools and ours have the same names (``apply_patch`` for a model that takes the freeform form, none for
  a model Codex does not know);
- ``input``: the same messages in the same order with the same text parts — the developer message after
  the base prompt (``developer_instructions``, ``<permissions instructions>``), AGENTS.md, the user's
  prompt — and, when the row sets ``instructions`` or ``model_instructions_file``, the base prompt.

Different by design, and left out of the comparison (:data:`CODEX_ONLY_PARTS` and the rest):

- the base prompt when the user sets none: Codex's own (21 k characters about its own tools) against
  codex-lsp's (about its tools: read_file, list_dir, search, apply_patch, update_plan, shell);
- Codex's other tools (``exec_command``, ``write_stdin``, ``request_user_input``, ``view_image``, the
  goal tools, ``tool_search``, multi-agent and code-mode tools) against codex-lsp's function tools;
- for Responses Lite models (the default model among them) Codex sends its tools in an
  ``additional_tools`` input item instead of ``tools``; codex-lsp sends its tools in ``tools`` (it has no
  Responses Lite tool channel), so the custom-tool names are compared only where Codex uses ``tools``;
- the developer text of features codex-lsp does not have: skills, deferred tool namespaces, collaboration
  modes, multi-agent roles;
- ``<environment_context>``: Codex's names the date, the time zone and a file-system permission profile;
  codex-lsp's names the folder (and the shell when it has one). The sandbox itself is compared, in the
  ``<permissions instructions>``.

Rows that do not test the sandbox name ``sandbox_mode = "workspace-write"``: ``codex exec`` defaults to
``read-only``, while ``codex-lsp exec`` applies patches and so tells the model ``workspace-write`` (the
sandbox's defaults belong to the sandbox, not to the request).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codex_lsp.testing import (
    FakeResponsesServer,
    Script,
    make_codex_home,
)
from tests.agent.exec_process import ours_exec
from tests.model.codex_peer import codex_exec, needs_codex

REPO = Path(__file__).resolve().parents[2]
PROMPT = "say hi"
WORKSPACE_WRITE = 'sandbox_mode = "workspace-write"'
MODEL_WARNINGS = ("Model metadata for", "Configured service tier")
"""The warnings compared: those about the model and its service tier. Codex also warns when AGENTS.md
files exceed ``project_doc_max_bytes``; codex-lsp does not yet."""
CONCURRENT_ROWS = 4
"""Rows run at once (two processes each); more only makes the two cores queue."""

CODEX_ONLY_PARTS = (
    "<skills_instructions>",
    "<tools>",
    "<collaboration_mode>",
    "<multi_agent_role>",
    "<multi_agent_mode>",
    "<apps_instructions>",
    "<plugins_instructions>",
    "<environment_context>",
)
"""Text parts only one side sends, by design (module docstring): Codex's features codex-lsp does not have,
and each side's own environment context."""

pytestmark = needs_codex


@dataclass(frozen=True)
class Row:
    """One configuration, as both sides get it."""

    name: str
    top: str = WORKSPACE_WRITE
    """Top-level config.toml lines (above the provider table)."""
    args: tuple[str, ...] = ()
    """``-m`` / ``-c`` / ``-p`` arguments, the same for both."""
    files: dict[str, str] = field(default_factory=dict)
    """Files under the row's root: ``codex-home/…``, ``ws/…`` (the workspace), others."""
    model: bool = True
    """Keep the home's ``model = "gpt-5.5"``; false: no model key at all."""
    base_prompt: bool = False
    """The row sets the base prompt (``instructions``, ``model_instructions_file``): compare it too."""
    cwd: str = "ws"
    """Where both run, under the row's root."""
    shows: dict[str, Any] = field(default_factory=dict)
    """What Codex's request must carry for the row to show anything: a field's value, the hosted tools
    (``web_search``), the names of the freeform tools (``custom_tools``), texts found in ``input``, the
    ``warnings``."""


AGENTS = {"codex-home/AGENTS.md": "Global rule.\n", "ws/AGENTS.md": "Project rule one.\n"}
DEV = "Always answer in French."
LIVE_SEARCH = {"type": "web_search", "external_web_access": True, "search_content_types": ["text", "image"]}

ROWS = [
    Row(
        "defaults: no model (the catalog's default model and its defaults)",
        model=False,
        shows={"model": "gpt-6.1-sol", "reasoning": {"effort": "low", "context": "all_turns"}},
    ),
    Row(
        "defaults: model only (the model's effort and verbosity, encrypted reasoning, cached web search)",
        shows={
            "reasoning": {"effort": "medium"},
            "text": {"verbosity": "low"},
            "include": ["reasoning.encrypted_content"],
            "web_search": [{**LIVE_SEARCH, "external_web_access": False}],
            "custom_tools": ["apply_patch"],
        },
    ),
    Row(
        "effort, summary, verbosity, service tier, live web search, developer instructions, AGENTS.md",
        top=WORKSPACE_WRITE
        + '\nmodel_reasoning_effort = "high"\nmodel_reasoning_summary = "detailed"\nmodel_verbosity = "high"'
        + f'\nservice_tier = "flex"\nweb_search = "live"\ndeveloper_instructions = "{DEV}"',
        files=AGENTS,
        shows={
            "reasoning": {"effort": "high", "summary": "detailed"},
            "text": {"verbosity": "high"},
            "service_tier": "flex",
            "input": [DEV, "Global rule.\n\n--- project-doc ---\n\nProject rule one."],
            "web_search": [LIVE_SEARCH],
        },
    ),
    Row(
        "--profile (effort, verbosity), fast service tier",
        args=("--profile", "deep"),
        files={
            "codex-home/deep.config.toml": 'model_reasoning_effort = "high"\nmodel_verbosity = "medium"\n'
        },
        top=WORKSPACE_WRITE + '\nservice_tier = "fast"',
        shows={"reasoning": {"effort": "high"}, "text": {"verbosity": "medium"}, "service_tier": "priority"},
    ),
    Row(
        "-c effort and -m a model Codex does not know",
        args=("-c", 'model_reasoning_effort="high"', "-m", "gpt-5.4"),
        shows={"model": "gpt-5.4", "reasoning": {"effort": "high", "summary": "auto"}},
    ),
    Row(
        "unknown model (a local one): function tools only",
        args=("-m", "qwen3-coder:30b"),
        shows={
            "reasoning": {"summary": "auto"},
            "web_search": [{"type": "web_search", "external_web_access": False}],
            "custom_tools": [],
            "warnings": [
                "Model metadata for `qwen3-coder:30b` not found. Defaulting to fallback metadata; this can "
                "degrade performance and cause issues."
            ],
        },
    ),
    Row(
        "model_instructions_file (-c, relative to the folder), fallback project doc names",
        args=(
            "-c",
            'model_instructions_file="base.md"',
            "-c",
            'project_doc_fallback_filenames=["CLAUDE.md"]',
        ),
        files={"ws/base.md": "You are a test model. Reply ok.\n", "ws/CLAUDE.md": "Claude rules.\n"},
        base_prompt=True,
        shows={"input": ["You are a test model. Reply ok.", "Claude rules."]},
    ),
    Row(
        "model_instructions_file in config.toml (relative to it) wins over instructions",
        top=WORKSPACE_WRITE + '\nmodel_instructions_file = "base.md"\ninstructions = "Not this."',
        files={"codex-home/base.md": "From the home.\n", "ws/base.md": "Not this either.\n"},
        base_prompt=True,
        shows={"input": ["From the home."]},
    ),
    Row(
        "instructions, web search disabled, project_doc_max_bytes = 0",
        top=WORKSPACE_WRITE
        + '\ninstructions = "  Inline base prompt.\\n"\nweb_search = "disabled"\nproject_doc_max_bytes = 0',
        files=AGENTS,
        base_prompt=True,
        shows={
            "input": ["  Inline base prompt.\n", "# AGENTS.md instructions\n\n<INSTRUCTIONS>\nGlobal rule.\n"]
        },
    ),
    Row(
        "project docs from the git root down to the folder",
        cwd="ws/sub",
        files={
            "ws/.git/HEAD": "ref: refs/heads/main\n",
            "ws/AGENTS.md": "Root rule.\n",
            "ws/sub/AGENTS.md": "Shadowed.\n",
            "ws/sub/AGENTS.override.md": "Sub rule.\n",
        },
        shows={"input": ["Root rule.\n\n\nSub rule."]},
    ),
    Row(
        "sandbox_mode read-only",
        top='sandbox_mode = "read-only"',
        shows={"input": ["`sandbox_mode` is `read-only`"]},
    ),
    Row(
        "sandbox_mode workspace-write with network and writable roots",
        args=(
            "-c",
            "sandbox_workspace_write.network_access=true",
            "-c",
            'sandbox_workspace_write.writable_roots=["/zz/last", "/aaa/first"]',
        ),
        shows={"input": ["Network access is enabled", "`/aaa/first`, `/tmp`"]},
    ),
    Row(
        "sandbox_mode danger-full-access (web search goes live)",
        top='sandbox_mode = "danger-full-access"',
        shows={"input": ["`sandbox_mode` is `danger-full-access`"], "web_search": [LIVE_SEARCH]},
    ),
    Row(
        "a Responses Lite model with its defaults, truncated AGENTS.md",
        args=("-m", "gpt-6-luna"),
        top=WORKSPACE_WRITE + "\nproject_doc_max_bytes = 10",
        files=AGENTS,
        shows={"parallel_tool_calls": False, "input": ["--- project-doc ---\n\nProject ru\n</INSTRUCTIONS>"]},
    ),
]


def unexercised(row: Row, codex: Seen) -> list[str]:
    """What ``row`` means to show that Codex's request (or its warnings) does not carry: a row whose
    setting Codex ignored would otherwise pass with both sides equally empty."""
    tools = codex.body.get("tools", [])
    seen = {
        **codex.body,
        "web_search": _hosted(tools),
        "custom_tools": _custom(tools),
        "warnings": codex.warnings,
    }
    missing = []
    for key, expected in row.shows.items():
        if key == "input":
            text = json.dumps(codex.body["input"])
            missing += [
                f"input lacks {needle!r}" for needle in expected if json.dumps(needle)[1:-1] not in text
            ]
        elif seen.get(key) != expected:
            missing.append(f"{key} is {seen.get(key)!r}, not {expected!r}")
    return missing


# -- running both sides -----------------------------------------------------------------------------------


def _setup(row: Row, root: Path, base_url: str) -> Path:
    home = make_codex_home(root, base_url, websockets=False, top=row.top)
    if not row.model:
        config = home / "config.toml"
        config.write_text(
            config.read_text(encoding="utf-8").replace('model = "gpt-5.5"\n', ""), encoding="utf-8"
        )
    for name, text in row.files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (root / row.cwd).mkdir(parents=True, exist_ok=True)
    return home


@dataclass(frozen=True)
class Seen:
    """What one side did for a row: its first request body (``root`` written as ``<root>``) and the
    warnings it gave the user."""

    body: dict[str, Any]
    warnings: list[str]


async def _first_body(row: Row, root: Path, peer: str) -> Seen:
    """What ``peer`` sends and says for ``row``."""
    root.mkdir(parents=True)  # noqa: ASYNC240 (a test's temporary folder)
    script = Script.model_validate(
        {"turns": [{"requests": [{"output": [{"type": "message", "text": "ok"}]}]}]}
    )
    async with FakeResponsesServer(script) as fake:
        home = _setup(row, root, fake.base_url)
        if peer == "codex":
            code, events, err = await codex_exec(home, root / row.cwd, PROMPT, args=row.args, sandbox=None)
        else:
            run = await ours_exec(home, root / row.cwd, PROMPT, "--skip-git-repo-check", *row.args)
            code, events, err = run.code, run.events, run.stderr
        items = [event.get("item") or {} for event in events]
        warnings = [str(item["message"]) for item in items if item.get("type") == "error"]
        assert code == 0, f"{peer}, {row.name}: {err[-2000:]}"
        request = fake.generating_requests()[0]
    body: dict[str, Any] = json.loads(json.dumps(request.body).replace(str(root), "<root>"))
    return Seen(body, warnings)


async def _both(row: Row, tmp: Path, gate: asyncio.Semaphore) -> tuple[Seen, Seen]:
    async with gate:
        codex, ours = await asyncio.gather(
            _first_body(row, tmp / "codex", "codex"), _first_body(row, tmp / "ours", "ours")
        )
    return codex, ours


# -- comparing ----------------------------------------------------------------------------------------------


def _parts(body: dict[str, Any], *, base_prompt: bool) -> list[list[tuple[str, str]]]:
    """The input's messages as (role, text) parts, without the parts that differ by design."""
    messages = [item for item in body["input"] if item.get("type") == "message"]
    if not base_prompt:
        messages = messages[1:]  # each side's own base prompt
    kept = []
    for message in messages:
        parts = [
            (str(message["role"]), str(part["text"]))
            for part in message["content"]
            if not str(part["text"]).startswith(CODEX_ONLY_PARTS)
        ]
        if parts:
            kept.append(parts)
    return kept


def _hosted(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [tool for tool in tools if tool["type"] == "web_search"]


def _custom(tools: list[dict[str, Any]]) -> list[str]:
    return sorted(str(tool["name"]) for tool in tools if tool["type"] == "custom")


def differences(row: Row, theirs: Seen, mine: Seen) -> list[str]:
    """Every field where the two first requests differ, other than by design, and the warnings."""
    codex, ours = theirs.body, mine.body
    found = []
    warned = [w for w in theirs.warnings if w.startswith(MODEL_WARNINGS)], mine.warnings
    if warned[0] != [w for w in warned[1] if w.startswith(MODEL_WARNINGS)]:
        found.append(f"warnings: codex {warned[0]}, ours {warned[1]}")
    by_design = {"input", "tools", "prompt_cache_key", "client_metadata"}
    for key in sorted((set(codex) | set(ours)) - by_design):
        if codex.get(key, "<absent>") != ours.get(key, "<absent>"):
            found.append(f"{key}: codex {codex.get(key, '<absent>')!r}, ours {ours.get(key, '<absent>')!r}")
    keys = sorted(codex["client_metadata"]), sorted(ours["client_metadata"])
    if keys[0] != keys[1]:
        found.append(f"client_metadata keys: codex {keys[0]}, ours {keys[1]}")
    codex_tools, our_tools = codex.get("tools"), ours.get("tools", [])
    if codex_tools is not None:  # Codex uses `tools` (not a Responses Lite model): compare them
        if _hosted(codex_tools) != _hosted(our_tools):
            found.append(f"hosted tools: codex {_hosted(codex_tools)}, ours {_hosted(our_tools)}")
        if _custom(codex_tools) != _custom(our_tools):
            found.append(f"custom tools: codex {_custom(codex_tools)}, ours {_custom(our_tools)}")
    elif _hosted(our_tools):
        found.append(f"hosted tools: codex none (Responses Lite), ours {_hosted(our_tools)}")
    codex_parts, our_parts = (
        _parts(codex, base_prompt=row.base_prompt),
        _parts(ours, base_prompt=row.base_prompt),
    )
    if codex_parts != our_parts:
        found.append(
            f"input: codex {json.dumps(codex_parts, indent=1)}\nours {json.dumps(our_parts, indent=1)}"
        )
    return found


async def test_the_first_request_is_codexs_for_every_row(tmp_path: Path) -> None:
    started = time.monotonic()
    gate = asyncio.Semaphore(CONCURRENT_ROWS)
    bodies = await asyncio.gather(*(_both(row, tmp_path / f"row{i}", gate) for i, row in enumerate(ROWS)))
    report = [
        f"{row.name}:\n  " + "\n  ".join(found)
        for row, (codex, ours) in zip(ROWS, bodies, strict=True)
        if (found := unexercised(row, codex) + differences(row, codex, ours))
    ]
    assert not report, "\n".join(report)
    print(f"{len(ROWS)} rows in {time.monotonic() - started:.1f}s")
