"""Provider settings: ``$CODEX_HOME/config.toml`` and ``auth.json``, read the way Codex reads them.

``CODEX_HOME`` defaults to ``~/.codex``. From ``config.toml`` we take ``model``, ``model_provider``, the
reasoning/verbosity knobs and the ``[model_providers.<id>]`` tables; unknown keys are
ignored because Codex's file holds many settings that are not ours. The API key comes from the provider's
``env_key`` variable when it names one, else from ``auth.json``'s ``OPENAI_API_KEY``, else from the
``OPENAI_API_KEY`` environment variable.

The key is a :class:`pydantic.SecretStr`: its ``repr`` and ``str`` are masked, and no error message built
here quotes a configured value (pydantic's own messages would, so we rebuild them from location and reason).
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from codex_lsp.model.errors import ConfigError

__all__ = [
    "DEFAULT_MODEL",
    "CodexConfig",
    "ModelSettings",
    "ProviderConfig",
    "codex_home",
    "load_settings",
]

DEFAULT_MODEL = "gpt-5.5"
"""Used when config.toml names no model; a name Codex knows, so the server offers the usual tools."""
OPENAI_BASE_URL = "https://api.openai.com/v1"


class ProviderConfig(BaseModel):
    """One ``[model_providers.<id>]`` table; the defaults are Codex's."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    name: str | None = None
    """Display name."""
    base_url: str | None = Field(default=None, pattern=r"^(https?|wss?)://[^/\s]+")
    """HTTP base URL; the WebSocket URL swaps the scheme (http→ws, https→wss)."""
    env_key: str | None = None
    """Environment variable holding the API key, sent as a Bearer token."""
    wire_api: Literal["responses"] = "responses"
    """Only the Responses API exists in current Codex."""
    query_params: dict[str, str] = Field(default_factory=dict)
    """Appended to both the HTTP and the WebSocket URL."""
    http_headers: dict[str, str] = Field(default_factory=dict)
    """Extra request headers (lowest precedence)."""
    env_http_headers: dict[str, str] = Field(default_factory=dict)
    """Header name → environment variable; skipped when the variable is unset or empty."""
    request_max_retries: int = Field(default=4, ge=0, le=100)
    """Retries of a request that failed before its response started."""
    stream_max_retries: int = Field(default=5, ge=0, le=100)
    """Retries of a stream that broke; on WebSocket, exhausting them switches to HTTP."""
    stream_idle_timeout_ms: int = Field(default=300_000, gt=0)
    """Longest silence tolerated while a response streams."""
    websocket_connect_timeout_ms: int = Field(default=15_000, gt=0)
    """Longest a WebSocket handshake (or HTTP connect) may take."""
    supports_websockets: bool = False
    """Try WebSocket first; false means HTTP SSE only."""
    requires_openai_auth: bool = False
    """The provider needs a key even without ``env_key`` (the built-in ``openai`` provider)."""


BUILTIN_PROVIDERS: dict[str, ProviderConfig] = {
    "openai": ProviderConfig(
        name="OpenAI", base_url=OPENAI_BASE_URL, supports_websockets=True, requires_openai_auth=True
    ),
    "ollama": ProviderConfig(name="Ollama", base_url="http://localhost:11434/v1"),
    "lmstudio": ProviderConfig(name="LM Studio", base_url="http://localhost:1234/v1"),
}


class CodexConfig(BaseModel):
    """The parts of ``config.toml`` the model layer reads."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    model: str | None = None
    model_provider: str = "openai"
    model_reasoning_effort: Literal["none", "minimal", "low", "medium", "high", "xhigh"] | None = None
    model_reasoning_summary: Literal["auto", "concise", "detailed", "none"] | None = None
    model_verbosity: Literal["low", "medium", "high"] | None = None
    openai_base_url: str | None = None
    model_providers: dict[str, ProviderConfig] = Field(default_factory=dict)
    approval_policy: Any = None
    """Not the model layer's: read here so that config.toml is parsed in one place. Codex's
    values (``untrusted``, ``on-failure``, ``on-request``, ``never``, or a table); the language
    server interprets it (``lsp/host/runtime.py``), so an unusual value never fails the config."""


class ModelSettings(BaseModel):
    """Everything a :class:`~codex_lsp.model.client.ModelClient` needs, resolved once."""

    model_config = ConfigDict(frozen=True)

    model: str = DEFAULT_MODEL
    provider_id: str = "openai"
    provider: ProviderConfig = Field(default_factory=lambda: BUILTIN_PROVIDERS["openai"])
    api_key: SecretStr | None = None
    """Masked in every repr; read it only through ``get_secret_value()`` when building the header."""
    key_source: str | None = None
    """Where the key came from ("env FAKE_KEY", "auth.json", …), for diagnostics; never the key."""
    reasoning_effort: str | None = None
    reasoning_summary: str | None = None
    verbosity: str | None = None
    source: Path | None = None
    """The config.toml that was read, if any."""

    @property
    def base_url(self) -> str:
        """The provider's HTTP base URL."""
        return (self.provider.base_url or OPENAI_BASE_URL).rstrip("/")

    def env_headers(self, env: Mapping[str, str] | None = None) -> dict[str, str]:
        """The ``env_http_headers`` whose variables are set and non-empty, with their values."""
        environ = os.environ if env is None else env
        return {
            header: environ[variable]
            for header, variable in self.provider.env_http_headers.items()
            if environ.get(variable)
        }

    def resolved_headers(self, env: Mapping[str, str] | None = None) -> dict[str, str]:
        """Provider ``http_headers`` plus the set ``env_http_headers`` (which win)."""
        return {**self.provider.http_headers, **self.env_headers(env)}

    def require_key(self) -> SecretStr | None:
        """Return the key, or raise when the provider needs one and none was found."""
        if self.api_key is not None:
            return self.api_key
        if self.provider.env_key:
            raise ConfigError(
                f"no API key: set the environment variable {self.provider.env_key} "
                f"(env_key of provider {self.provider_id!r} in {self.source or 'config.toml'})"
            )
        if self.provider.requires_openai_auth:
            raise ConfigError("no API key: set OPENAI_API_KEY or put OPENAI_API_KEY in $CODEX_HOME/auth.json")
        return None


def codex_home(env: Mapping[str, str] | None = None) -> Path:
    """Return ``$CODEX_HOME``, or ``~/.codex`` when unset."""
    environ = os.environ if env is None else env
    value = environ.get("CODEX_HOME")
    return Path(value).expanduser() if value else Path.home() / ".codex"


def _describe(exc: ValidationError, path: Path) -> str:
    """A validation error as text naming each key and reason, never the offending value."""
    problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
    return f"invalid setting in {path}: {problems}"


def read_config(path: Path) -> CodexConfig:
    """Parse ``config.toml``; a missing file gives the defaults."""
    if not path.is_file():
        return CodexConfig()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}", path=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc.__class__.__name__}", path=path) from None
    try:
        return CodexConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, path), path=path) from None


def read_auth_key(path: Path) -> SecretStr | None:
    """Return ``OPENAI_API_KEY`` from ``auth.json``, or ``None`` when the file or the key is absent."""
    if not path.is_file():
        return None
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path} is not readable JSON ({exc.__class__.__name__})", path=path) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object at the top level", path=path)
    value = data.get("OPENAI_API_KEY")
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{path}: OPENAI_API_KEY must be a string or null", path=path)
    return SecretStr(value)


def _resolve_provider(config: CodexConfig, path: Path) -> ProviderConfig:
    provider_id = config.model_provider
    provider = config.model_providers.get(provider_id) or BUILTIN_PROVIDERS.get(provider_id)
    if provider is None:
        known = sorted({*config.model_providers, *BUILTIN_PROVIDERS})
        raise ConfigError(
            f"model_provider = {provider_id!r} in {path} names no provider; "
            f"define [model_providers.{provider_id}] or use one of {known}",
            path=path,
        )
    if provider_id == "openai" and config.openai_base_url and provider.base_url == OPENAI_BASE_URL:
        provider = provider.model_copy(update={"base_url": config.openai_base_url})
    return provider


def _resolve_key(
    provider: ProviderConfig, home: Path, environ: Mapping[str, str]
) -> tuple[SecretStr | None, str | None]:
    if provider.env_key and environ.get(provider.env_key):
        return SecretStr(environ[provider.env_key]), f"env {provider.env_key}"
    from_file = read_auth_key(home / "auth.json")
    if from_file is not None:
        return from_file, str(home / "auth.json")
    if environ.get("OPENAI_API_KEY"):
        return SecretStr(environ["OPENAI_API_KEY"]), "env OPENAI_API_KEY"
    return None, None


def load_settings(home: Path | None = None, env: Mapping[str, str] | None = None) -> ModelSettings:
    """Read ``config.toml`` and ``auth.json`` under ``home`` (default: :func:`codex_home`)."""
    environ = os.environ if env is None else env
    home = home if home is not None else codex_home(environ)
    path = home / "config.toml"
    config = read_config(path)
    provider = _resolve_provider(config, path)
    key, source = _resolve_key(provider, home, environ)
    return ModelSettings(
        model=config.model or DEFAULT_MODEL,
        provider_id=config.model_provider,
        provider=provider,
        api_key=key,
        key_source=source,
        reasoning_effort=config.model_reasoning_effort,
        reasoning_summary=config.model_reasoning_summary,
        verbosity=config.model_verbosity,
        source=path if path.is_file() else None,
    )
