"""The server's settings: what an editor may set, checked once, with a readable complaint per bad value.

They arrive as ``initializationOptions`` and as the ``codex`` section of ``workspace/configuration``
(re-read on ``workspace/didChangeConfiguration``); the later source wins key by key. Everything not
set here comes from ``$CODEX_HOME/config.toml`` (model, provider, reasoning effort), as for
``codex-lsp exec``. The object is built without pydantic so that parsing it costs nothing at
start-up. A bad value never stops the server: the key keeps its previous value and the problem is
reported once, naming the key and the value.

Recognised keys (camelCase, as editors write them)::

    {"model": "gpt-5.5", "provider": "openai", "baseUrl": "http://127.0.0.1:8080/v1",
     "transport": "auto", "reasoningEffort": "medium", "editMode": "review",
     "shell": {"enabled": false, "allow": ["pytest", "git status"]}, "approvalPolicy": "on-request",
     "alwaysAsk": {"deletions": true, "outsideOpenBuffers": false, "paths": ["migrations/**"]},
     "editFallback": "none", "showAnswers": "auto", "asyncCommands": "auto"}

The last three are for editors that are not ours (see ``Settings``): what to do when the editor
cannot apply edits, where a turn's answer is shown, and whether a turn command answers at once.

``approvalPolicy`` takes Codex's names (``untrusted``, ``on-request``, ``never``; unset: the
``approval_policy`` of config.toml, else ``on-request``). The values of earlier versions still
work and mean what they meant: ``ask`` is ``on-request`` (commands ask, file changes apply) and
``deny`` is ``never`` (nothing asks; what would ask is refused).

Unknown keys are ignored (editors add their own, such as ``trace``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

__all__ = [
    "APPROVAL_POLICIES",
    "EDIT_FALLBACKS",
    "EDIT_MODES",
    "EFFORTS",
    "KEYS",
    "SHOW_ANSWERS",
    "TRANSPORTS",
    "Settings",
    "parse_settings",
    "section_of",
]

TRANSPORTS = ("auto", "websocket", "http")
EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")
EDIT_MODES = ("auto", "review")
APPROVAL_POLICIES = ("untrusted", "on-request", "never")
EDIT_FALLBACKS = ("none", "disk", "diff")
SHOW_ANSWERS = ("auto", "always", "never")
LEGACY_POLICIES = {"ask": "on-request", "deny": "never"}
"""The ``approvalPolicy`` values of earlier versions, and the Codex names they mean."""
_URL = re.compile(r"^(https?|wss?)://[^/\s]+\S*$")


@dataclass(frozen=True)
class Settings:
    """What the editor configured; ``None`` means "as in ``$CODEX_HOME/config.toml``"."""

    model: str | None = None
    """The model to ask; default: ``model`` of config.toml."""
    provider: str | None = None
    """A provider id: one of ``[model_providers.<id>]`` in config.toml or a built-in one (``openai``,
    ``ollama``, ``lmstudio``); default: ``model_provider`` of config.toml."""
    base_url: str | None = None
    """The provider's base URL (``http(s)://host[:port]/v1``); default: the provider's."""
    transport: str = "auto"
    """``auto`` (the provider's choice: WebSocket when it supports it, else HTTP), ``websocket``,
    ``http``."""
    reasoning_effort: str | None = None
    """``none`` … ``xhigh``; default: ``model_reasoning_effort`` of config.toml."""
    edit_mode: str = "auto"
    """``auto``: every patch becomes a workspace edit at once; ``review``: a turn's patches are held
    as a proposal the user accepts or rejects, hunk by hunk."""
    shell_enabled: bool = False
    """Offer the model the ``shell`` tool; off unless enabled."""
    shell_allow: tuple[str, ...] = ()
    """Commands that run without asking (``"pytest"`` allows ``pytest -q``)."""
    approval_policy: str | None = None
    """``untrusted``, ``on-request``, ``never`` (``None``: config.toml's ``approval_policy``, else
    ``on-request``); see ``agent/approval.py``."""
    ask_for_deletions: bool = False
    """``alwaysAsk.deletions``: deleting a file always asks."""
    ask_outside_open_buffers: bool = False
    """``alwaysAsk.outsideOpenBuffers``: changing a file that is not open always asks."""
    ask_for_paths: tuple[str, ...] = ()
    """``alwaysAsk.paths``: gitignore-style globs; changing a matching path always asks."""
    edit_fallback: str = "none"
    """For an editor without ``workspace/applyEdit``: ``none`` refuses a turn before it starts (it
    could change nothing); ``disk`` writes the changes to disk (a file with unsaved changes in the
    editor is refused; the editor reloads what was written); ``diff`` holds them and shows the diff."""
    show_answers: str = "auto"
    """Where a turn's final answer is shown: ``auto`` for editors without our plugin (no
    ``experimental.codex``), ``always``, ``never``. Short answers as a message, long ones as a
    read-only document (``window/showDocument``) where the editor can open one."""
    async_commands: bool | None = None
    """A turn command answers at once with the turn id (the turn reports through progress and
    messages): ``True``, ``False``, or ``None`` (``"auto"``: for editors known to give up on long
    requests, lsp-mode)."""

    def model_overrides(self) -> tuple[Any, ...]:
        """The settings the model connection depends on (a change means a new connection)."""
        return (self.provider, self.base_url, self.transport, self.reasoning_effort, self.model)


def _choice(options: tuple[str, ...]) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if value not in options:
            raise ValueError(f"is not one of {', '.join(options)}")
        return value

    return check


def _optional(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def optional(value: Any) -> Any:
        return None if value is None or value == "" else check(value)

    return optional


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("is not a non-empty string")
    return value.strip()


def _url(value: Any) -> str:
    if not isinstance(value, str) or not _URL.match(value.strip()):
        raise ValueError("is not an http(s):// or ws(s):// URL")
    return value.strip().rstrip("/")


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("is not true or false")
    return value


def _auto_flag(value: Any) -> bool | None:
    if value == "auto":
        return None
    return _flag(value)


def _policy(value: Any) -> str:
    if value in LEGACY_POLICIES:
        return LEGACY_POLICIES[value]
    if value not in APPROVAL_POLICIES:
        raise ValueError(f"is not one of {', '.join(APPROVAL_POLICIES)}")
    return str(value)


def _globs(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError("is not a list of glob strings")
    return tuple(v.strip() for v in value)


def _commands(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError("is not a list of command strings")
    return tuple(v.strip() for v in value)


KEYS: dict[tuple[str, ...], tuple[str, Callable[[Any], Any]]] = {
    ("model",): ("model", _optional(_text)),
    ("provider",): ("provider", _optional(_text)),
    ("baseUrl",): ("base_url", _optional(_url)),
    ("transport",): ("transport", _choice(TRANSPORTS)),
    ("reasoningEffort",): ("reasoning_effort", _optional(_choice(EFFORTS))),
    ("editMode",): ("edit_mode", _choice(EDIT_MODES)),
    ("shell", "enabled"): ("shell_enabled", _flag),
    ("shell", "allow"): ("shell_allow", _commands),
    ("approvalPolicy",): ("approval_policy", _optional(_policy)),
    ("alwaysAsk", "deletions"): ("ask_for_deletions", _flag),
    ("alwaysAsk", "outsideOpenBuffers"): ("ask_outside_open_buffers", _flag),
    ("alwaysAsk", "paths"): ("ask_for_paths", _globs),
    ("editFallback",): ("edit_fallback", _choice(EDIT_FALLBACKS)),
    ("showAnswers",): ("show_answers", _choice(SHOW_ANSWERS)),
    ("asyncCommands",): ("async_commands", _auto_flag),
}


def _lookup(data: Mapping[str, Any], path: tuple[str, ...]) -> tuple[bool, Any]:
    value: Any = data
    for part in path:
        if not isinstance(value, Mapping) or part not in value:
            return False, None
        value = value[part]
    return True, value


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def section_of(data: Any) -> Mapping[str, Any]:
    """The ``codex`` settings inside ``data``: the object itself, or its ``codex`` member."""
    if not isinstance(data, Mapping):
        return {}
    inner = data.get("codex")
    return inner if isinstance(inner, Mapping) else data


def parse_settings(data: Any, base: Settings | None = None) -> tuple[Settings, list[str]]:
    """Lay the keys ``data`` sets over ``base``; return the result and one line per bad value."""
    settings = base or Settings()
    problems: list[str] = []
    if data is not None and not isinstance(data, Mapping):
        return settings, [f"codex settings = {_shown(data)} is not an object; keeping the current settings"]
    section = section_of(data)
    changes: dict[str, Any] = {}
    for path, (field, check) in KEYS.items():
        present, value = _lookup(section, path)
        if not present:
            continue
        key = "codex." + ".".join(path)
        try:
            changes[field] = check(value)
        except ValueError as exc:
            kept = getattr(settings, field)
            using = "the default" if kept is None else _shown(kept)
            problems.append(f"{key} = {_shown(value)} {exc}; using {using}")
    return replace(settings, **changes), problems
