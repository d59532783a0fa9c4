"""A session's configuration options (``configOptions``): its mode, its model and its reasoning effort.

ACP has two ways to offer choices: session modes (``modes``, ``session/set_mode``) and configuration
options (``configOptions``, ``session/set_config_option``), and clients read one or the other (Zed reads
both; CodeCompanion.nvim only the options). So a session offers its modes twice — the ``mode`` option
has the same ids as the modes, and setting either reports the other — plus the choices modes cannot
carry:

- ``model``: the models Codex lists in its picker (its bundled catalog, default first), with the
  configured model first when it is not one of them. A model Codex does not know (a local model, an
  Azure deployment) is offered alone: listing OpenAI's models for another provider would only offer
  requests that fail.
- ``reasoning_effort``: the levels the current model advertises, current value the chosen one, else
  the configured ``model_reasoning_effort``, else the model's default. A model without known levels
  offers the option only when an effort is configured (then the usual levels).

The ids and categories are Zed's codex-acp's (``mode``/``mode``, ``model``/``model``,
``reasoning_effort``/``thought_level``), so a client that knows one Codex agent knows this one. A model
or effort chosen here applies from the session's next prompt; a mode, from the next tool call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from acp import RequestError
from acp.schema import (
    SessionConfigOptionBoolean,
    SessionConfigOptionSelect,
    SessionConfigSelectOption,
    SessionMode,
)

from codex_lsp.model import find_model, listed_models

__all__ = [
    "EFFORT",
    "EFFORT_NAMES",
    "GENERIC_EFFORTS",
    "MODE",
    "MODEL",
    "Choices",
    "ConfigOption",
    "chosen",
    "config_options",
]

ConfigOption = SessionConfigOptionSelect | SessionConfigOptionBoolean

MODE = "mode"
MODEL = "model"
EFFORT = "reasoning_effort"

GENERIC_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")
"""The levels offered for a model Codex does not know (when an effort is configured for it)."""

EFFORT_NAMES = {
    "none": ("None", "No reasoning: the quickest answers"),
    "minimal": ("Minimal", "The least reasoning the model can do"),
    "low": ("Low", "Quick answers with light reasoning"),
    "medium": ("Medium", "A balance of speed and depth for everyday work"),
    "high": ("High", "Deeper reasoning for hard problems"),
    "xhigh": ("Extra high", "Very deep reasoning for the hardest problems"),
    "max": ("Max", "The model's deepest single-agent reasoning"),
    "ultra": ("Ultra", "The model's multi-agent reasoning level"),
}


@dataclass(frozen=True)
class Choices:
    """What a session's options show: its mode, its model and the effort chosen (``None``: the
    model's default)."""

    mode: str
    model: str
    effort: str | None


def model_ids(current: str) -> list[str]:
    """The models offered while ``current`` is the session's model."""
    if find_model(current) is None:
        return [current]
    listed = [info.slug for info in listed_models()]
    return listed if current in listed else [current, *listed]


def efforts(model: str, chosen: str | None) -> tuple[list[str], str | None]:
    """The levels offered for ``model`` and the current one (``None``: no effort option)."""
    info = find_model(model)
    levels = list(info.efforts) if info is not None and info.efforts else []
    if not levels:
        if chosen is None:
            return [], None
        levels = list(GENERIC_EFFORTS)
    current = chosen or (info.default_effort if info is not None else None) or levels[0]
    if current not in levels:
        levels.append(current)
    return levels, current


def config_options(choices: Choices, modes: Sequence[SessionMode]) -> list[ConfigOption]:
    """The session's options, with their current values."""
    options: list[ConfigOption] = [
        SessionConfigOptionSelect(
            id=MODE,
            name="Mode",
            description="What the agent may change, and whether it asks first",
            category="mode",
            type="select",
            current_value=choices.mode,
            options=[
                SessionConfigSelectOption(value=mode.id, name=mode.name, description=mode.description)
                for mode in modes
            ],
        ),
        SessionConfigOptionSelect(
            id=MODEL,
            name="Model",
            description="The model the next prompts go to",
            category="model",
            type="select",
            current_value=choices.model,
            options=[_model_option(slug) for slug in model_ids(choices.model)],
        ),
    ]
    levels, current = efforts(choices.model, choices.effort)
    if current is not None:
        options.append(
            SessionConfigOptionSelect(
                id=EFFORT,
                name="Reasoning effort",
                description="How much the model reasons before it answers",
                category="thought_level",
                type="select",
                current_value=current,
                options=[_effort_option(level) for level in levels],
            )
        )
    return options


def chosen(choices: Choices, config_id: str, value: str | bool, modes: Sequence[SessionMode]) -> Choices:
    """``choices`` with option ``config_id`` set to ``value``; a JSON-RPC error for an unknown option or
    value. A model that lacks the chosen effort gets its own default."""
    if not isinstance(value, str):
        raise RequestError(-32602, f"option {config_id!r} takes one of its values, not a boolean")
    if config_id == MODE:
        _check(config_id, value, [mode.id for mode in modes])
        return Choices(value, choices.model, choices.effort)
    if config_id == MODEL:
        _check(config_id, value, model_ids(choices.model))
        levels, _ = efforts(value, None)
        effort = choices.effort if choices.effort in levels or not levels else None
        return Choices(choices.mode, value, effort)
    if config_id == EFFORT:
        levels, current = efforts(choices.model, choices.effort)
        if current is None:
            raise RequestError(-32602, f"the model {choices.model} has no reasoning effort to choose")
        _check(config_id, value, levels)
        return Choices(choices.mode, choices.model, value)
    raise RequestError(-32602, f"unknown option {config_id!r}; the options are {MODE}, {MODEL}, {EFFORT}")


def _check(config_id: str, value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise RequestError(
            -32602, f"{value!r} is not a value of option {config_id!r}; the values are {', '.join(allowed)}"
        )


def _model_option(slug: str) -> SessionConfigSelectOption:
    info = find_model(slug)
    if info is None or info.slug != slug:
        return SessionConfigSelectOption(value=slug, name=slug)
    return SessionConfigSelectOption(
        value=slug, name=info.display_name or slug, description=info.description or None
    )


def _effort_option(level: str) -> SessionConfigSelectOption:
    name, description = EFFORT_NAMES.get(level, (level, None))
    return SessionConfigSelectOption(value=level, name=name, description=description)
