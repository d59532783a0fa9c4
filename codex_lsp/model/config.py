"""Provider settings: ``$CODEX_HOME/config.toml`` and the user's sign-in, resolved as Codex resolves them.

``CODEX_HOME`` defaults to ``~/.codex``. From ``config.toml`` we take ``model``, ``model_provider``, the
reasoning/verbosity knobs, ``service_tier``, ``web_search``, the ``[model_providers.<id>]`` tables, the
sign-in keys (``forced_login_method``, ``forced_chatgpt_workspace_id``, ``cli_auth_credentials_store``) and
what the model is told (:class:`PromptSettings`: the instructions keys, the project-doc limits, the sandbox
mode); unknown keys are ignored here (:mod:`codex_lsp.model.layers` reports them as Codex does). What each
model changes in a request comes from Codex's catalog (:mod:`codex_lsp.model.catalog`).

Which credential a provider's requests carry (Codex 0.169, checked against the binary):

1. a provider with ``env_key``: that variable, and nothing else — unset or empty, every request fails with
   Codex's ``Missing environment variable: `X`.`` (plus ``env_key_instructions``);
2. else ``experimental_bearer_token`` from the provider table;
3. else, for the built-in ``openai`` provider and any provider with ``requires_openai_auth = true``, the
   user's OpenAI sign-in (:class:`~codex_lsp.auth.OpenAIAccount`: ``CODEX_API_KEY``, then ``auth.json`` —
   an API key or ChatGPT tokens —, then ``OPENAI_API_KEY``);
4. else nothing: a local model server or a proxy gets no ``Authorization`` header.

A key therefore only ever goes to the provider it belongs to. Secrets are :class:`pydantic.SecretStr` or live
inside the credential objects: masked in every ``repr``, and no error message built here quotes a configured
value (pydantic's own messages would, so we rebuild them from location and reason).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from codex_lsp.model import catalog
from codex_lsp.model.errors import AuthError, ConfigError
from codex_lsp.model.layers import Layered, load_layers, read_toml
from codex_lsp.model.permissions import (
    ConfigApprovalPolicy,
    Permissions,
    SandboxMode,
    SandboxWorkspaceWrite,
    ShellEnvironmentPolicy,
    check_approval_policy,
    resolve_permissions,
)

if TYPE_CHECKING:
    from codex_lsp.auth import AccountInfo, Credential

__all__ = [
    "CHATGPT_BASE_URL",
    "DEFAULT_MODEL",
    "OPENAI_BASE_URL",
    "CodexConfig",
    "ConfigRequest",
    "ModelSettings",
    "PromptSettings",
    "ProviderConfig",
    "codex_home",
    "load_config",
    "load_permissions",
    "load_settings",
]

DEFAULT_MODEL = "gpt-5.5"
"""The model of settings built by hand (tests); a configuration that names no model gets Codex's default
from its catalog (:func:`codex_lsp.model.catalog.default_model`)."""
PROJECT_DOC_MAX_BYTES = 32 * 1024
"""Codex's default budget for project instructions (AGENTS.md)."""
OPENAI_BASE_URL = "https://api.openai.com/v1"
"""The ``openai`` provider's base URL with an API key."""
CHATGPT_BASE_URL = "https://chatgpt.com/backend-api/codex"
"""The ``openai`` provider's base URL with a ChatGPT sign-in."""
OPENAI_API_KEY_ENV = "OPENAI_API_KEY"


class ProviderConfig(BaseModel):
    """One ``[model_providers.<id>]`` table; the defaults are Codex's."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    name: str | None = None
    """Display name."""
    base_url: str | None = Field(default=None, pattern=r"^(https?|wss?)://[^/\s]+")
    """HTTP base URL; the WebSocket URL swaps the scheme (http→ws, https→wss)."""
    env_key: str | None = None
    """Environment variable holding the API key, sent as a Bearer token; the only credential then."""
    env_key_instructions: str | None = None
    """Appended to the error when the ``env_key`` variable is unset (how to get a key)."""
    experimental_bearer_token: SecretStr | None = None
    """A bearer token written into config.toml (used when there is no ``env_key``)."""
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
    """The provider takes the user's OpenAI sign-in (auth.json) when it has no ``env_key``."""

    @property
    def uses_openai_account(self) -> bool:
        """Whether requests carry the user's OpenAI sign-in: ``requires_openai_auth`` and no key of its own
        (``env_key`` or ``experimental_bearer_token``), which would come first."""
        return self.requires_openai_auth and not self.env_key and self.experimental_bearer_token is None


BUILTIN_PROVIDERS: dict[str, ProviderConfig] = {
    # No base_url: it depends on the sign-in (ChatGPT or API key); see ModelSettings.base_url.
    "openai": ProviderConfig(name="OpenAI", supports_websockets=True, requires_openai_auth=True),
    "ollama": ProviderConfig(name="Ollama", base_url="http://localhost:11434/v1"),
    "lmstudio": ProviderConfig(name="LM Studio", base_url="http://localhost:1234/v1"),
}


class WebSearchOptions(BaseModel):
    """``[tools.web_search]``: how the hosted web search tool searches."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    context_size: Literal["low", "medium", "high"] | None = None
    allowed_domains: tuple[str, ...] = ()
    location: dict[str, str] | None = None
    """``country``, ``region``, ``city``, ``timezone``: sent as the tool's approximate ``user_location``."""


class ToolsConfig(BaseModel):
    """``[tools]``; ``tools.web_search = true|false`` is still accepted and changes nothing (as in Codex)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    web_search: bool | WebSearchOptions | None = None


class CodexConfig(BaseModel):
    """The parts of ``config.toml`` the model layer reads."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    model: str | None = None
    model_provider: str = "openai"
    model_reasoning_effort: (
        Literal["none", "minimal", "low", "medium", "high", "xhigh", "max", "ultra"] | None
    ) = None
    model_reasoning_summary: Literal["auto", "concise", "detailed", "none"] | None = None
    model_verbosity: Literal["low", "medium", "high"] | None = None
    service_tier: str | None = None
    """``fast`` (= ``priority``), ``flex``, ``default``, or a tier the model advertises."""
    web_search: Literal["disabled", "cached", "indexed", "live"] | None = None
    tools: ToolsConfig = Field(default_factory=ToolsConfig)
    instructions: str | None = None
    """Replaces the base prompt (``model_instructions_file`` wins over it)."""
    model_instructions_file: str | None = None
    """A file whose text replaces the base prompt; relative to the folder of the file that names it."""
    developer_instructions: str | None = None
    """Extra developer text, sent after the base prompt."""
    project_doc_max_bytes: int = Field(default=PROJECT_DOC_MAX_BYTES, ge=0)
    project_doc_fallback_filenames: tuple[str, ...] = ()
    openai_base_url: str | None = None
    model_providers: dict[str, ProviderConfig] = Field(default_factory=dict)
    forced_login_method: Literal["chatgpt", "api"] | None = None
    """Only this kind of sign-in may be used (Codex's key)."""
    forced_chatgpt_workspace_id: tuple[str, ...] = ()
    """ChatGPT workspaces (account ids) a sign-in must belong to; one id or a list in the file."""
    cli_auth_credentials_store: Literal["file", "keyring", "auto", "ephemeral"] = "file"
    """Where Codex keeps the sign-in; codex-lsp reads only the file."""
    approval_policy: ConfigApprovalPolicy | None = None
    """Not the model layer's, nor the next three: what commands and edits may do, typed here so that
    the configuration is checked in one place (:mod:`codex_lsp.model.permissions`); a value Codex
    would refuse fails the configuration, naming the key and its file."""
    sandbox_mode: SandboxMode | None = None
    sandbox_workspace_write: SandboxWorkspaceWrite = Field(default_factory=SandboxWorkspaceWrite)
    shell_environment_policy: ShellEnvironmentPolicy = Field(default_factory=ShellEnvironmentPolicy)
    projects: Any = None
    """Not the model layer's either: Codex's ``[projects."<path>"]`` tables (``trust_level = "trusted"``
    is written by Codex when you trust a folder). The language server lets the agent work in a trusted
    folder outside the editor's open ones (``lsp/host/boundary.py``); any value is accepted here."""

    _approval_policy = field_validator("approval_policy", mode="before")(check_approval_policy)

    @field_validator("forced_chatgpt_workspace_id", mode="before")
    @classmethod
    def _one_workspace_or_many(cls, value: Any) -> Any:
        """Codex's file may name one workspace (a string) or several (a list)."""
        return (value,) if isinstance(value, str) else value


class PromptSettings(BaseModel):
    """What the configuration says the model is told, besides the user's words (the agent renders it)."""

    model_config = ConfigDict(frozen=True)

    base_instructions: str | None = None
    """The user's base prompt (``model_instructions_file`` or ``instructions``); ``None``: the agent's own,
    ``""``: none at all."""
    developer_instructions: str | None = None
    project_doc_max_bytes: int = Field(default=PROJECT_DOC_MAX_BYTES, ge=0)
    """Budget for the project's AGENTS.md files; 0 leaves them out (the global one is still sent)."""
    project_doc_fallback_filenames: tuple[str, ...] = ()
    """Read in a folder without AGENTS.md (``CLAUDE.md``…)."""
    sandbox_mode: SandboxMode | None = None
    """``None``: the host's default."""
    network_access: bool = False
    """``sandbox_workspace_write.network_access``."""
    writable_roots: tuple[str, ...] = ()
    """``sandbox_workspace_write.writable_roots`` (the workspace, ``/tmp`` and ``$TMPDIR`` come on top)."""
    exclude_tmpdir_env_var: bool = False
    exclude_slash_tmp: bool = False


class ModelSettings(BaseModel):
    """Everything a :class:`~codex_lsp.model.client.ModelClient` needs, resolved once.

    The credential is one of: ``missing_key`` (a required key is absent: requests fail with that message),
    ``api_key`` (a static bearer key), ``account_home`` (the user's OpenAI sign-in in that folder's
    ``auth.json``, re-read and refreshed while the client lives), or none of them (no credential sent).
    """

    model_config = ConfigDict(frozen=True)

    model: str = DEFAULT_MODEL
    provider_id: str = "openai"
    provider: ProviderConfig = Field(default_factory=lambda: BUILTIN_PROVIDERS["openai"])
    api_key: SecretStr | None = None
    """Masked in every repr; read it only through ``get_secret_value()`` when building the header."""
    key_source: str | None = None
    """Where the key came from ("env FAKE_KEY", "auth.json", …), for diagnostics; never the key."""
    missing_key: str | None = None
    """Why no request can be sent: Codex's ``Missing environment variable`` text when a required key is
    absent, or why the credential is withheld (:meth:`without_credential`)."""
    account_home: Path | None = None
    """The ``CODEX_HOME`` whose ``auth.json`` holds the user's OpenAI sign-in, for providers that use it."""
    account_mode: Literal["chatgpt", "apikey"] | None = None
    """The kind of sign-in found when the settings were read (the live credential re-reads the file)."""
    forced_login: Literal["chatgpt", "api"] | None = None
    allowed_workspaces: tuple[str, ...] = ()
    credentials_store: str = "file"
    reasoning_effort: str | None = None
    reasoning_summary: str | None = None
    verbosity: str | None = None
    service_tier: str | None = None
    """As configured; what is sent depends on the model (:func:`~codex_lsp.model.catalog.service_tier`)."""
    web_search: Literal["disabled", "cached", "indexed", "live"] | None = None
    web_search_options: WebSearchOptions | None = None
    prompt: PromptSettings = Field(default_factory=PromptSettings)
    source: Path | None = None
    """The config.toml that was read, if any."""
    config_warnings: tuple[str, ...] = ()
    """What the user should hear about the configuration (unknown keys, an untrusted project's file), in
    Codex's words; each host says it once."""

    def request_fields(self, model: str) -> dict[str, Any]:
        """The fields of a request to ``model`` that these settings and Codex's catalog decide:
        ``reasoning``, ``include``, ``parallel_tool_calls``, ``text``, ``service_tier`` and the hosted
        ``tools`` (web search), as Codex 0.169 sends them (:mod:`codex_lsp.model.catalog`)."""
        info = catalog.model_info(model)
        fields = catalog.request_fields(
            info, effort=self.reasoning_effort, summary=self.reasoning_summary, verbosity=self.verbosity
        )
        tier, _ = catalog.service_tier(info, self.service_tier)
        if tier:
            fields["service_tier"] = tier
        options = self.web_search_options.model_dump() if self.web_search_options else None
        full_access = self.prompt.sandbox_mode == "danger-full-access"
        search = catalog.web_search_tool(info, self.web_search, options, full_access=full_access)
        fields["tools"] = [search] if search else []
        return fields

    @property
    def base_url(self) -> str:
        """The provider's HTTP base URL (for the ``openai`` provider, the one of the sign-in found)."""
        return self.base_url_for(self.account_mode)

    def base_url_for(self, mode: str | None) -> str:
        """The base URL with a sign-in of kind ``mode``: the provider's own, else ChatGPT's backend for a
        ChatGPT sign-in and the API's otherwise (Codex's defaults)."""
        if self.provider.base_url:
            return self.provider.base_url.rstrip("/")
        return CHATGPT_BASE_URL if mode == "chatgpt" else OPENAI_BASE_URL

    def env_headers(self, env: Mapping[str, str] | None = None) -> dict[str, str]:
        """The ``env_http_headers`` whose variables are set and non-empty, with their values."""
        environ = os.environ if env is None else env
        return {
            header: environ[variable]
            for header, variable in self.provider.env_http_headers.items()
            if environ.get(variable)
        }

    def secret_env_names(self) -> frozenset[str]:
        """The environment variables this configuration reads a secret from: OpenAI's key variables (the
        sign-in reads them), the provider's ``env_key`` and every ``env_http_headers`` variable (such as an
        Azure ``api-key``). Commands the agent runs never inherit them."""
        from codex_lsp.auth import CODEX_API_KEY_ENV

        provider = self.provider
        names = {OPENAI_API_KEY_ENV, CODEX_API_KEY_ENV, *provider.env_http_headers.values()}
        if provider.env_key:
            names.add(provider.env_key)
        return frozenset(names)

    def resolved_headers(self, env: Mapping[str, str] | None = None) -> dict[str, str]:
        """Provider ``http_headers`` plus the set ``env_http_headers`` (which win)."""
        return {**self.provider.http_headers, **self.env_headers(env)}

    def carries_secrets(self, env: Mapping[str, str] | None = None) -> bool:
        """Whether requests would carry anything of the user's that a stranger must not get: a key, the
        OpenAI sign-in (its token and account header), or configured headers (``http_headers``, and the
        ``env_http_headers`` whose variables are set — both are masked as secrets everywhere)."""
        return bool(
            self.api_key is not None
            or self.account_home is not None
            or self.provider.experimental_bearer_token is not None
            or self.provider.http_headers
            or self.env_headers(env)
        )

    def without_credential(self, reason: str) -> ModelSettings:
        """These settings with nothing of :meth:`carries_secrets` left, and every request refused with
        ``reason`` before it is sent (as for a missing ``env_key``): for a base URL the user's own
        configuration does not name, until the user consents."""
        provider = self.provider.model_copy(
            update={"experimental_bearer_token": None, "http_headers": {}, "env_http_headers": {}}
        )
        return self.model_copy(
            update={
                "provider": provider,
                "api_key": None,
                "key_source": None,
                "account_home": None,
                "account_mode": None,
                "missing_key": reason,
            }
        )

    def cache_key(self) -> str:
        """What makes two settings the same client (every field, the secret ones by digest): hosts that
        resolve settings per folder share one client, and so one WebSocket, among folders alike."""
        import hashlib

        secret = self.api_key.get_secret_value() if self.api_key is not None else ""
        bearer = self.provider.experimental_bearer_token
        secret += "\0" + (bearer.get_secret_value() if bearer is not None else "")
        return self.model_dump_json() + hashlib.sha256(secret.encode()).hexdigest()

    def credential(self, env: Mapping[str, str] | None = None) -> Credential:
        """The live credential for these settings (one per client: it keeps refreshed tokens)."""
        from codex_lsp.auth import MissingCredential, NoCredential, OpenAIAccount, StaticKey

        if self.missing_key is not None:
            return MissingCredential(self.missing_key)
        if self.api_key is not None:
            return StaticKey(self.api_key.get_secret_value(), self.key_source or "the configuration")
        if self.account_home is not None:
            return OpenAIAccount(
                self.account_home,
                env,
                forced_login=self.forced_login,
                allowed_workspaces=self.allowed_workspaces,
                credentials_store=self.credentials_store,
            )
        return NoCredential()

    def account(self, env: Mapping[str, str] | None = None) -> AccountInfo:
        """Who the requests would be signed in as, now (no secret)."""
        return self.credential(env).account()

    def require_credentials(self, env: Mapping[str, str] | None = None) -> None:
        """Raise now what the first request would raise: ``ConfigError`` for a missing key or an unusable
        auth.json, ``AuthError`` when not signed in. Makes no request."""
        from codex_lsp.auth import AuthFileError, AuthProblem

        credential = self.credential(env)
        try:
            credential.check()
        except AuthFileError as exc:
            raise ConfigError(exc.message, path=exc.path) from None
        except AuthProblem as exc:
            if self.missing_key is not None:
                raise ConfigError(exc.message) from None
            raise AuthError(exc.message) from None


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
    """Parse one ``config.toml`` on its own (no profile, project or ``-c`` layer); a missing file gives
    the defaults. :func:`load_config` reads every layer."""
    try:
        return CodexConfig.model_validate(read_toml(path))
    except ValidationError as exc:
        raise ConfigError(_describe(exc, path), path=path) from None


def _layered_error(exc: ValidationError, layered: Layered) -> ConfigError:
    """A validation error of the merged settings, naming for each key the layer (file) that set it."""
    problems, paths = [], []
    for error in exc.errors():
        key = ".".join(map(str, error["loc"]))
        origin = layered.origin(key)
        problems.append(f"{key} ({origin}): {error['msg']}")
        layer = next((layer for layer in layered.layers if layer.label == origin), None)
        paths.append(layer.path if layer is not None else None)
    where = next((p for p in paths if p is not None), None)
    return ConfigError(
        f"invalid setting in {where or 'the configuration'}: {'; '.join(problems)}", path=where
    )


def load_config(
    home: Path,
    *,
    profile: str | None = None,
    cwd: Path | None = None,
    overrides: Sequence[str] = (),
    flags: Mapping[str, Any] | None = None,
) -> tuple[CodexConfig, Layered]:
    """Every layer Codex reads (see :mod:`codex_lsp.model.layers`), merged and checked; raises
    ``ConfigError`` naming the file (or ``-c``) a bad value came from."""
    layered = load_layers(home, profile=profile, cwd=cwd, overrides=overrides, flags=flags)
    try:
        return CodexConfig.model_validate(layered.merged), layered
    except ValidationError as exc:
        raise _layered_error(exc, layered) from None


def read_auth_key(path: Path) -> SecretStr | None:
    """Return the API key ``auth.json`` holds in API-key mode, or ``None`` (absent file, or a ChatGPT
    sign-in). Raises ``ConfigError`` when the file is unusable."""
    from codex_lsp.auth import AuthFileError, read_auth_file

    try:
        file = read_auth_file(path)
    except AuthFileError as exc:
        raise ConfigError(exc.message, path=path) from None
    if file is None or file.mode != "apikey" or not file.api_key:
        return None
    return SecretStr(file.api_key)


def _origin_path(layered: Layered, key: str) -> Path | None:
    origin = layered.origin(key)
    return next((layer.path for layer in layered.layers if layer.label == origin), None)


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
    if provider_id == "openai" and config.openai_base_url and provider.base_url is None:
        provider = provider.model_copy(update={"base_url": config.openai_base_url})
    return provider


def _account_mode(home: Path, environ: Mapping[str, str]) -> Literal["chatgpt", "apikey"] | None:
    """The kind of OpenAI sign-in a request would use now (for the default base URL and for display); an
    unusable auth.json is a ``ConfigError`` here already, naming the file."""
    from codex_lsp.auth import CODEX_API_KEY_ENV, AuthFileError, read_auth_file

    if environ.get(CODEX_API_KEY_ENV):
        return "apikey"
    try:
        file = read_auth_file(home / "auth.json")
    except AuthFileError as exc:
        raise ConfigError(exc.message, path=exc.path) from None
    if file is not None:
        return file.mode
    return "apikey" if environ.get(OPENAI_API_KEY_ENV) else None


def credential_fields(
    provider: ProviderConfig, config: CodexConfig, home: Path, environ: Mapping[str, str]
) -> dict[str, Any]:
    """The :class:`ModelSettings` fields that say which credential ``provider``'s requests carry (the order
    is in the module docstring)."""
    if provider.env_key:
        value = environ.get(provider.env_key)
        if value:
            return {"api_key": SecretStr(value), "key_source": f"env {provider.env_key}"}
        message = f"Missing environment variable: `{provider.env_key}`."
        if provider.env_key_instructions:
            message += f" {provider.env_key_instructions}"
        return {"missing_key": message}
    if provider.experimental_bearer_token is not None:
        return {"api_key": provider.experimental_bearer_token, "key_source": "experimental_bearer_token"}
    if provider.uses_openai_account:
        return {
            "account_home": home,
            "account_mode": _account_mode(home, environ),
            "forced_login": config.forced_login_method,
            "allowed_workspaces": config.forced_chatgpt_workspace_id,
            "credentials_store": config.cli_auth_credentials_store,
        }
    return {}


@dataclass(frozen=True)
class ConfigRequest:
    """What a host asks of the configuration beyond ``$CODEX_HOME``: the profile (``--profile``), the
    folder the run works in (its trusted project layers), ``-c`` overrides and command-line flags (dotted
    keys, ``None`` meaning "not given")."""

    profile: str | None = None
    cwd: Path | None = None
    overrides: tuple[str, ...] = ()
    flags: Mapping[str, Any] = field(default_factory=dict)


def load_settings(
    home: Path | None = None,
    env: Mapping[str, str] | None = None,
    *,
    provider_id: str | None = None,
    request: ConfigRequest | None = None,
) -> ModelSettings:
    """Read the configuration layers and the sign-in under ``home`` (default: :func:`codex_home`) as
    ``request`` asks; ``provider_id`` replaces the configured ``model_provider`` (an editor's choice)."""
    environ = os.environ if env is None else env
    home = home if home is not None else codex_home(environ)
    path = home / "config.toml"
    asked = request or ConfigRequest()
    config, layered = load_config(
        home, profile=asked.profile, cwd=asked.cwd, overrides=asked.overrides, flags=asked.flags
    )
    if provider_id is not None:
        config = config.model_copy(update={"model_provider": provider_id})
    provider = _resolve_provider(config, _origin_path(layered, "model_provider") or path)
    model = config.model or catalog.default_model()
    info = catalog.model_info(model)
    tier_warning = catalog.service_tier(info, config.service_tier)[1]
    warnings = (*layered.warnings, catalog.unknown_model_warning(model), tier_warning)
    search = config.tools.web_search
    return ModelSettings(
        config_warnings=tuple(warning for warning in warnings if warning),
        model=model,
        provider_id=config.model_provider,
        provider=provider,
        reasoning_effort=config.model_reasoning_effort,
        reasoning_summary=config.model_reasoning_summary,
        verbosity=config.model_verbosity,
        service_tier=config.service_tier,
        web_search=config.web_search,
        web_search_options=search if isinstance(search, WebSearchOptions) else None,
        prompt=_prompt_settings(config, layered, asked.cwd),
        source=path if path.is_file() else None,
        **credential_fields(provider, config, home, environ),
    )


def load_permissions(
    home: Path | None = None, env: Mapping[str, str] | None = None, *, request: ConfigRequest | None = None
) -> Permissions:
    """What commands and edits may do for the run ``request`` describes (its ``cwd`` is the working folder):
    the sandbox, the shell's environment policy and the approval policy, from every layer; raises
    ``ConfigError``."""
    home = home if home is not None else codex_home(env)
    asked = request or ConfigRequest()
    config, layered = load_config(
        home, profile=asked.profile, cwd=asked.cwd, overrides=asked.overrides, flags=asked.flags
    )
    return resolve_permissions(config, layered, asked.cwd)


def _base_instructions(config: CodexConfig, layered: Layered, cwd: Path | None) -> str | None:
    """``model_instructions_file``'s text, trimmed (the path relative to the folder of the file that names
    it, or to the working folder for ``-c``; an empty file is an error), else ``instructions`` as written;
    ``None`` when neither is set."""
    if config.model_instructions_file is None:
        return config.instructions
    named = Path(config.model_instructions_file).expanduser()
    origin = _origin_path(layered, "model_instructions_file")
    base = origin.parent if origin is not None else (cwd or Path.cwd())
    path = named if named.is_absolute() else base / named
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc.__class__.__name__
        raise ConfigError(f"failed to read model instructions file {path}: {reason}", path=origin) from None
    if not text:
        raise ConfigError(f"model instructions file is empty: {path}", path=origin)
    return text


def _prompt_settings(config: CodexConfig, layered: Layered, cwd: Path | None) -> PromptSettings:
    workspace_write = config.sandbox_workspace_write
    return PromptSettings(
        base_instructions=_base_instructions(config, layered, cwd),
        developer_instructions=config.developer_instructions or None,
        project_doc_max_bytes=config.project_doc_max_bytes,
        project_doc_fallback_filenames=config.project_doc_fallback_filenames,
        sandbox_mode=config.sandbox_mode,
        network_access=workspace_write.network_access,
        writable_roots=workspace_write.writable_roots,
        exclude_tmpdir_env_var=workspace_write.exclude_tmpdir_env_var,
        exclude_slash_tmp=workspace_write.exclude_slash_tmp,
    )
