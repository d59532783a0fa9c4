"""Codex's model catalog: what each model Codex knows changes in a request, and what an unknown one gets.

``catalog.json`` (next to this module) is the pinned Codex's bundled catalog (``codex debug models
--bundled``) cut down by :func:`project` to the fields that shape a request: the default reasoning effort
and summary, the default verbosity (absent: the model takes no ``text.verbosity``), the apply_patch tool
form, the web search tool's content types, the service tiers the model advertises, whether it speaks
Responses Lite, and the context window; plus what a model picker shows (name, description, whether
Codex lists the model, its order). tests/model/test_model_catalog.py regenerates it from the binary
and fails when the two disagree (``python tools/update_model_catalog.py`` rewrites it).

The file is read on first use, never at import: a host that never builds a request does not pay for it.

How Codex 0.169 uses the catalog, each rule checked against the binary by the same test module:

- **Which entry**: the longest slug that begins the model name (``gpt-5.5-2026-01-01`` is ``gpt-5.5``);
  else, for ``namespace/name`` with one slash, the same for ``name``. Case matters. No entry: the
  fallback metadata (:data:`FALLBACK`) and Codex's warning (:func:`unknown_model_warning`).
- **Default model**: the listed model (``visibility = "list"``) of the lowest ``priority``.
- **reasoning**: always sent. ``effort`` is the configured one, else the model's default (none for an
  unknown model); ``ultra`` becomes the model's multi-agent effort, else its highest other level.
  ``summary`` is the configured one, else the model's default (``auto`` for an unknown model); ``none``
  leaves it out. Responses Lite models add ``context: "all_turns"``. ``include`` always asks for the
  encrypted reasoning.
- **text.verbosity**: the configured one, else the model's default; never for a model without one.
- **parallel_tool_calls**: false for Responses Lite models.
- **service_tier**: ``fast`` means ``priority``; ``default`` sends none; ``flex`` is always sent; any
  other tier only when the model advertises it (else a warning, and none is sent).
- **web_search**: the hosted tool, ``cached`` by default (``live`` under ``danger-full-access``),
  none when ``disabled`` and none for Responses Lite models (Codex offers their tools another way).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "CATALOG_FILE",
    "FALLBACK",
    "ModelInfo",
    "default_model",
    "effective_effort",
    "find_model",
    "listed_models",
    "model_info",
    "project",
    "request_fields",
    "service_tier",
    "unknown_model_warning",
    "web_search_tool",
]

CATALOG_FILE = Path(__file__).with_name("catalog.json")

WebSearchMode = Literal["disabled", "cached", "indexed", "live"]


@dataclass(frozen=True)
class ModelInfo:
    """What one model changes in a request (one entry of ``catalog.json``)."""

    slug: str
    default_effort: str | None
    """Sent when the user sets no ``model_reasoning_effort``."""
    efforts: tuple[str, ...]
    """The reasoning levels the model advertises, lowest first."""
    default_summary: str
    """``model_reasoning_summary`` when unset; ``none`` sends no summary."""
    default_verbosity: str | None
    """``model_verbosity`` when unset; ``None``: the model takes no ``text.verbosity`` at all."""
    apply_patch: Literal["freeform"] | None
    """``freeform``: apply_patch as a custom tool with a grammar; ``None``: the model gets no freeform
    tool (Codex then offers no apply_patch; codex-lsp offers it as a JSON function)."""
    web_search: Literal["text", "text_and_image"]
    """``text_and_image`` adds ``search_content_types`` to the web search tool."""
    service_tiers: tuple[str, ...]
    """The tiers the model advertises besides ``flex`` (which every model takes)."""
    responses_lite: bool
    """Codex speaks Responses Lite to it: ``reasoning.context``, no parallel tool calls."""
    multi_agent_effort: str | None
    """What ``ultra`` becomes for this model, when it says."""
    context_window: int | None
    display_name: str = ""
    """What a model picker shows (Codex's ``display_name``); the slug when empty."""
    description: str = ""
    listed: bool = False
    """Codex offers it in its model picker (``visibility = "list"``); hidden models are still usable."""
    priority: int = 0
    """Codex's picker order (lowest first)."""
    known: bool = True
    """False for :data:`FALLBACK`: Codex has no entry for the model."""


FALLBACK = ModelInfo(
    slug="",
    default_effort=None,
    efforts=(),
    default_summary="auto",
    default_verbosity=None,
    apply_patch=None,
    web_search="text",
    service_tiers=(),
    responses_lite=False,
    multi_agent_effort=None,
    context_window=None,
    known=False,
)
"""Codex's fallback metadata for a model it does not know (a local model, a new name)."""


@dataclass(frozen=True)
class _Catalog:
    default_model: str
    models: dict[str, ModelInfo]


def _info(entry: Mapping[str, Any]) -> ModelInfo:
    return ModelInfo(
        slug=entry["slug"],
        default_effort=entry["default_reasoning_effort"],
        efforts=tuple(entry["reasoning_efforts"]),
        default_summary=entry["default_reasoning_summary"],
        default_verbosity=entry["default_verbosity"],
        apply_patch=entry["apply_patch_tool_type"],
        web_search=entry["web_search_tool_type"],
        service_tiers=tuple(entry["service_tiers"]),
        responses_lite=entry["use_responses_lite"],
        multi_agent_effort=entry["multi_agent_reasoning_effort"],
        context_window=entry["context_window"],
        display_name=entry.get("display_name") or "",
        description=entry.get("description") or "",
        listed=bool(entry.get("listed")),
        priority=entry.get("priority") or 0,
    )


@functools.cache
def _catalog() -> _Catalog:
    data = json.loads(CATALOG_FILE.read_text(encoding="utf-8"))
    models = {entry["slug"]: _info(entry) for entry in data["models"]}
    return _Catalog(data["default_model"], models)


def default_model() -> str:
    """The model Codex uses when the configuration names none."""
    return _catalog().default_model


def _longest_prefix(name: str, models: Mapping[str, ModelInfo]) -> ModelInfo | None:
    hits = [slug for slug in models if name.startswith(slug)]
    return models[max(hits, key=len)] if hits else None


def listed_models() -> list[ModelInfo]:
    """The models Codex offers in its picker, in its order (the default first)."""
    listed = [info for info in _catalog().models.values() if info.listed]
    return sorted(listed, key=lambda info: info.priority)


def find_model(name: str) -> ModelInfo | None:
    """The catalog entry Codex uses for ``name``, or ``None`` when it has none."""
    models = _catalog().models
    found = _longest_prefix(name, models)
    if found is None and name.count("/") == 1:
        found = _longest_prefix(name.split("/", 1)[1], models)
    return found


def model_info(name: str) -> ModelInfo:
    """The entry for ``name``, or the fallback metadata Codex gives a model it does not know."""
    return find_model(name) or FALLBACK


def unknown_model_warning(name: str) -> str | None:
    """Codex's warning for a model without a catalog entry; ``None`` for a known one."""
    if find_model(name) is not None:
        return None
    return (
        f"Model metadata for `{name}` not found. Defaulting to fallback metadata; this can degrade "
        "performance and cause issues."
    )


def effective_effort(info: ModelInfo, configured: str | None) -> str | None:
    """The ``reasoning.effort`` sent: the configured one (``ultra`` resolved), else the default."""
    if configured != "ultra":
        return configured or info.default_effort
    if info.multi_agent_effort:
        return info.multi_agent_effort
    others = [level for level in info.efforts if level != "ultra"]
    return others[-1] if others else "medium"


def service_tier(info: ModelInfo, configured: str | None) -> tuple[str | None, str | None]:
    """The ``service_tier`` sent for ``configured``, and Codex's warning when it is dropped."""
    if configured in (None, "default"):
        return None, None
    tier = "priority" if configured == "fast" else configured
    if tier == "flex" or tier in info.service_tiers:
        return tier, None
    name = info.slug or "this model"
    return None, (
        f"Configured service tier `{tier}` is not advertised as supported for model `{name}` and will "
        "be omitted from requests."
    )


def web_search_tool(
    info: ModelInfo,
    mode: WebSearchMode | None,
    options: Mapping[str, Any] | None = None,
    *,
    full_access: bool = False,
) -> dict[str, Any] | None:
    """The hosted ``web_search`` tool Codex offers, or ``None``. ``options`` is the ``[tools.web_search]``
    table (``context_size``, ``allowed_domains``, ``location``); ``full_access``: the sandbox mode is
    ``danger-full-access``, where a cached search goes live."""
    mode = mode or "cached"
    if mode == "disabled" or info.responses_lite:
        return None
    if mode == "cached" and full_access:
        mode = "live"
    tool: dict[str, Any] = {"type": "web_search", "external_web_access": mode != "cached"}
    if mode == "indexed":
        tool["indexed_web_access"] = True
    options = options or {}
    if options.get("allowed_domains"):
        tool["filters"] = {"allowed_domains": list(options["allowed_domains"])}
    if options.get("location"):
        tool["user_location"] = {"type": "approximate", **options["location"]}
    if options.get("context_size"):
        tool["search_context_size"] = options["context_size"]
    if info.web_search == "text_and_image":
        tool["search_content_types"] = ["text", "image"]
    return tool


def request_fields(
    info: ModelInfo,
    *,
    effort: str | None = None,
    summary: str | None = None,
    verbosity: str | None = None,
) -> dict[str, Any]:
    """``reasoning``, ``include``, ``parallel_tool_calls`` and (when the model takes it) ``text``, as
    Codex sends them for this model and these settings."""
    reasoning: dict[str, Any] = {}
    chosen = effective_effort(info, effort)
    if chosen:
        reasoning["effort"] = chosen
    summary = summary or info.default_summary
    if summary != "none":
        reasoning["summary"] = summary
    if info.responses_lite:
        reasoning["context"] = "all_turns"
    fields: dict[str, Any] = {
        "reasoning": reasoning,
        "include": ["reasoning.encrypted_content"],
        "parallel_tool_calls": not info.responses_lite,
    }
    if info.default_verbosity is not None:
        fields["text"] = {"verbosity": verbosity or info.default_verbosity}
    return fields


def project(raw: Mapping[str, Any], codex_version: str) -> dict[str, Any]:
    """``codex debug models --bundled`` output (of the Codex that says ``codex_version``) cut down to what
    ``catalog.json`` keeps."""
    entries = list(raw["models"])

    def verbosity(entry: Mapping[str, Any]) -> str | None:
        return entry.get("default_verbosity") if entry.get("support_verbosity") else None

    listed = [entry for entry in entries if entry.get("visibility") == "list"]
    default = min(listed, key=lambda entry: entry["priority"])["slug"]
    return {
        "source": f"{codex_version}: codex debug models --bundled",
        "default_model": default,
        "models": [
            {
                "slug": entry["slug"],
                "default_reasoning_effort": entry.get("default_reasoning_level"),
                "reasoning_efforts": [level["effort"] for level in entry["supported_reasoning_levels"]],
                "default_reasoning_summary": entry.get("default_reasoning_summary") or "auto",
                "default_verbosity": verbosity(entry),
                "apply_patch_tool_type": entry.get("apply_patch_tool_type"),
                "web_search_tool_type": entry.get("web_search_tool_type") or "text",
                "service_tiers": [tier["id"] for tier in entry.get("service_tiers", [])],
                "use_responses_lite": bool(entry.get("use_responses_lite")),
                "multi_agent_reasoning_effort": entry.get("multi_agent_reasoning_effort"),
                "context_window": entry.get("context_window"),
                "display_name": entry.get("display_name") or entry["slug"],
                "description": entry.get("description") or "",
                "listed": entry.get("visibility") == "list",
                "priority": entry.get("priority", 0),
            }
            for entry in entries
        ],
    }
