"""Codex's configuration layers, merged as Codex 0.169 merges them, each value remembering where it came from.

From lowest to highest precedence:

1. **user** — ``$CODEX_HOME/config.toml``;
2. **profile** — ``$CODEX_HOME/<name>.config.toml`` for ``--profile <name>`` (a missing file adds nothing,
   as in Codex);
3. **project** — each ``.codex/config.toml`` from the project root (the git root, else the working folder)
   down to the working folder, for folders the user trusts: ``[projects."<path>"] trust_level =
   "trusted"`` in the user's config.toml, a trusted folder's subfolders included. An untrusted folder's
   file is skipped with Codex's warning;
4. **override** — ``-c key=value`` (a dotted path; the value is TOML, else the raw text);
5. **flag** — command-line flags (``-m``, ``-s``…), given as dotted keys;
6. **editor** — the language server's editor settings, laid over everything (by the caller).

Tables merge key by key; anything else is replaced. The merged table is what
:class:`~codex_lsp.model.config.CodexConfig` validates. Settings Codex removed are refused with Codex's own
words (``wire_api = "chat"``, the legacy ``profile = "x"``, redefined built-in providers, ``approval_policy =
"untrusted"``); keys Codex does not know are reported with its warning (``Codex is ignoring N unrecognized
configuration settings``) — :data:`KNOWN_KEYS` is checked against the pinned Codex by a test.
"""

from __future__ import annotations

import subprocess
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from codex_lsp.model.errors import ConfigError

__all__ = [
    "KNOWN_KEYS",
    "RESERVED_PROVIDER_IDS",
    "Layer",
    "LayerName",
    "Layered",
    "load_layers",
    "parse_override",
]

LayerName = Literal["user", "profile", "project", "override", "flag", "editor"]

KNOWN_KEYS = frozenset(
    {
        "model",
        "review_model",
        "model_provider",
        "model_providers",
        "model_context_window",
        "model_auto_compact_token_limit",
        "model_auto_compact_token_limit_scope",
        "model_reasoning_effort",
        "model_reasoning_summary",
        "model_verbosity",
        "model_instructions_file",
        "instructions",
        "developer_instructions",
        "compact_prompt",
        "experimental_compact_prompt_file",
        "approval_policy",
        "approvals_reviewer",
        "sandbox_mode",
        "sandbox_workspace_write",
        "shell_environment_policy",
        "service_tier",
        "web_search",
        "tools",
        "mcp_servers",
        "projects",
        "project_doc_max_bytes",
        "project_doc_fallback_filenames",
        "project_root_markers",
        "openai_base_url",
        "chatgpt_base_url",
        "forced_login_method",
        "forced_chatgpt_workspace_id",
        "cli_auth_credentials_store",
        "oss_provider",
        "notify",
        "hide_agent_reasoning",
        "show_raw_agent_reasoning",
        "file_opener",
        "history",
        "tui",
        "features",
        "analytics",
        "otel",
        "check_for_update_on_startup",
        "disable_paste_burst",
        "profiles",
        "skills",
        "hooks",
        "personality",
    }
)
"""Top-level keys the pinned Codex reads (it warns about any other); tests/model/test_config_layers.py
checks the list against the binary."""

RESERVED_PROVIDER_IDS = frozenset({"openai", "ollama", "lmstudio"})
"""The built-in providers' ids, which a ``[model_providers.<id>]`` table may not redefine (Codex's rule)."""

_NEVER_WARNED = frozenset({"profile"})
"""Keys refused with their own error rather than reported as unknown."""


@dataclass(frozen=True)
class Layer:
    """One source of settings and what it says."""

    name: LayerName
    data: dict[str, Any]
    path: Path | None = None
    detail: str | None = None
    """What set it when no file did (``-c model="o3"``, ``--model``)."""

    @property
    def label(self) -> str:
        """How the layer is named in messages: ``user (/home/me/.codex/config.toml)``, ``override (-c
        model="o3")``."""
        where = self.path if self.path is not None else self.detail
        return f"{self.name} ({where})" if where is not None else self.name


@dataclass(frozen=True)
class Layered:
    """The merged settings, where each came from, and what the user should hear about them."""

    layers: tuple[Layer, ...]
    merged: dict[str, Any]
    origins: dict[str, str] = field(default_factory=dict)
    """Dotted key → the label of the layer that set it last."""
    warnings: tuple[str, ...] = ()

    def origin(self, key: str) -> str:
        """Where ``key`` (dotted) came from: a layer's label, or ``default``."""
        parts = key.split(".")
        for end in range(len(parts), 0, -1):
            found = self.origins.get(".".join(parts[:end]))
            if found is not None:
                return found
        return "default"


def read_toml(path: Path) -> dict[str, Any]:
    """One TOML file as a table; a missing file is empty; a broken one is a ``ConfigError`` naming it."""
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}", path=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc.__class__.__name__}", path=path) from None


def parse_override(text: str) -> dict[str, Any]:
    """``-c key=value`` as a nested table: the key a dotted path, the value TOML, else the raw text (as
    Codex reads it: ``-c model_reasoning_effort=high`` means the string ``high``)."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key or any(not part.strip() for part in key.split(".")):
        raise ConfigError(f'-c {text!r}: expected key=value, the key a dotted path (e.g. model="o3")')
    try:
        value: Any = tomllib.loads(f"value = {raw.strip()}")["value"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return nested(key.split("."), value)


def nested(path: Sequence[str], value: Any) -> dict[str, Any]:
    """``{"a": {"b": value}}`` for the path ``["a", "b"]``."""
    table: dict[str, Any] = {path[-1].strip(): value}
    for part in reversed(path[:-1]):
        table = {part.strip(): table}
    return table


def _merge(
    base: dict[str, Any], over: Mapping[str, Any], label: str, origins: dict[str, str], at: str
) -> None:
    for key, value in over.items():
        dotted = f"{at}{key}"
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value, label, origins, dotted + ".")
        else:
            base[key] = _copy(value)
            for known in [k for k in origins if k.startswith(dotted + ".")]:
                del origins[known]
            origins[dotted] = label


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def git_root(folder: Path) -> Path | None:
    """The git work tree ``folder`` is in (``git`` itself decides, so worktrees and submodules count)."""
    try:
        done = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "--show-toplevel"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    top = done.stdout.strip()
    return Path(top).resolve() if done.returncode == 0 and top else None


def trusted_folders(user: Mapping[str, Any]) -> tuple[Path, ...]:
    """The folders the user's config.toml trusts (``[projects."<path>"] trust_level = "trusted"``)."""
    projects = user.get("projects")
    if not isinstance(projects, dict):
        return ()
    found = []
    for path, table in projects.items():
        if isinstance(table, dict) and table.get("trust_level") == "trusted":
            found.append(Path(path).expanduser().resolve())
    return tuple(found)


def _within(path: Path, folders: Iterable[Path]) -> bool:
    return any(path == folder or folder in path.parents for folder in folders)


UNTRUSTED = (
    "Untrusted project-local configuration is disabled: {path} is not read. Trust the project in "
    '{home}/config.toml ([projects."{folder}"] trust_level = "trusted") to use it.'
)


def project_layers(user: Mapping[str, Any], cwd: Path, home: Path) -> tuple[list[Layer], list[str]]:
    """The trusted ``.codex/config.toml`` files from the project root down to ``cwd``; a warning for each
    untrusted one."""
    cwd = cwd.resolve()
    root = git_root(cwd) or cwd
    chain = [root, *reversed([p for p in cwd.parents if root in p.parents]), cwd] if root != cwd else [cwd]
    trusted = trusted_folders(user)
    layers, warnings = [], []
    for folder in dict.fromkeys(chain):
        path = folder / ".codex" / "config.toml"
        if not path.is_file():
            continue
        if _within(folder, trusted):
            layers.append(Layer("project", read_toml(path), path))
        else:
            warnings.append(UNTRUSTED.format(path=path, home=home, folder=folder))
    return layers, warnings


def _refuse_removed(layer: Layer) -> None:
    """Settings Codex no longer accepts, refused with its words."""
    data = layer.data
    if "profile" in data:
        name = data["profile"]
        raise ConfigError(
            f"legacy `profile = {name!r}` config is no longer supported; use `--profile {name}` with "
            f"`{name}.config.toml` instead ({layer.label})".replace("'", '"'),
            path=layer.path,
        )
    if data.get("approval_policy") == "untrusted":
        raise ConfigError(
            f'approval_policy = "untrusted" is no longer supported; remove this setting ({layer.label})',
            path=layer.path,
        )
    providers = data.get("model_providers")
    if isinstance(providers, dict):
        reserved = sorted(set(providers) & RESERVED_PROVIDER_IDS)
        if reserved:
            names = ", ".join(f"`{name}`" for name in reserved)
            raise ConfigError(
                f"model_providers contains reserved built-in provider IDs: {names}. Built-in providers "
                "cannot be overridden. Rename your custom provider (for example, `openai-custom`). "
                f"({layer.label})",
                path=layer.path,
            )
        for provider in providers.values():
            if isinstance(provider, dict) and provider.get("wire_api") == "chat":
                raise ConfigError(
                    f'`wire_api = "chat"` is no longer supported. ({layer.label})', path=layer.path
                )


def _unknown(layers: Iterable[Layer]) -> list[str]:
    found = [
        f"  {layer.label}: `{key}` is ignored."
        for layer in layers
        if layer.name in ("user", "profile", "project")
        for key in sorted(layer.data)
        if key not in KNOWN_KEYS and key not in _NEVER_WARNED
    ]
    if not found:
        return []
    count = len(found)
    noun = "setting" if count == 1 else "settings"
    head = (
        f"Codex is ignoring {count} unrecognized configuration {noun}. Check for typos or deprecated "
        "settings."
    )
    return ["\n".join([head, *found])]


def load_layers(
    home: Path,
    *,
    profile: str | None = None,
    cwd: Path | None = None,
    overrides: Sequence[str] = (),
    flags: Mapping[str, Any] | None = None,
) -> Layered:
    """Read and merge every layer for a run in ``cwd`` (no project layers without one)."""
    user = Layer("user", read_toml(home / "config.toml"), home / "config.toml")
    layers = [user]
    if profile:
        path = home / f"{profile}.config.toml"
        layers.append(Layer("profile", read_toml(path), path))
    warnings: list[str] = []
    if cwd is not None:
        found, warnings = project_layers(user.data, cwd, home)
        layers += found
    for text in overrides:
        layers.append(Layer("override", parse_override(text), detail=f"-c {text}"))
    for key, value in (flags or {}).items():
        if value is not None:
            layers.append(Layer("flag", nested(key.split("."), value), detail=key))
    for layer in layers:
        _refuse_removed(layer)
    merged: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for layer in layers:
        _merge(merged, layer.data, layer.label, origins, "")
    return Layered(tuple(layers), merged, origins, (*warnings, *_unknown(layers)))
