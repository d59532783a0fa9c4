"""``codex-lsp exec --oss``: a model on this machine (Ollama or LM Studio), chosen as ``codex exec --oss``
chooses it.

- The provider: ``--local-provider``, else ``oss_provider`` from the configuration; neither is an error in
  Codex's words. ``ollama`` and ``lmstudio`` are Codex's built-in providers; any other name must be a
  provider the configuration defines.
- The model: ``-m``, else the provider's default open-weight model (``gpt-oss:20b`` on Ollama,
  ``openai/gpt-oss-20b`` on LM Studio) — over the configured ``model``, as Codex does.
- Where it listens: ``$CODEX_OSS_BASE_URL``, else ``http://localhost:$CODEX_OSS_PORT/v1``, else the
  provider's own port (11434 Ollama, 1234 LM Studio) — Codex's variables for its built-in local providers.
- No credential: the built-in local providers have no ``env_key`` and do not take the OpenAI sign-in, so
  no key or token is ever sent to them (:mod:`codex_lsp.model` decides that, not this module).
- Before the turn, the server must answer (``GET /v1/models``) and an Ollama must be new enough for the
  Responses API (0.13.4, Codex's minimum); otherwise exec stops with Codex's message. Codex then also
  downloads a missing model (Ollama) or loads it with the ``lms`` tool (LM Studio); codex-lsp downloads
  nothing and runs no tool: the server's own error names a missing model.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from codex_lsp.model import ModelSettings

__all__ = [
    "DEFAULT_OSS_MODELS",
    "LOCAL_PROVIDERS",
    "NO_PROVIDER",
    "LocalModelError",
    "check_local_server",
    "local_base_url",
    "oss_provider",
    "with_local_base_url",
]

LOCAL_PROVIDERS = {"ollama": 11434, "lmstudio": 1234}
"""Codex's built-in local providers and their default ports."""
DEFAULT_OSS_MODELS = {"ollama": "gpt-oss:20b", "lmstudio": "openai/gpt-oss-20b"}
MIN_OLLAMA = (0, 13, 4)
CHECK_TIMEOUT_S = 5.0

NO_PROVIDER = (
    "No default OSS provider configured. Use --local-provider=provider or set oss_provider to one of: "
    "lmstudio, ollama in config.toml"
)
OLLAMA_DOWN = (
    "OSS setup failed: No running Ollama server detected. Start it with: `ollama serve` (after "
    "installing). Install instructions: https://github.com/ollama/ollama?tab=readme-ov-file#ollama"
)
LMSTUDIO_DOWN = (
    "OSS setup failed: LM Studio is not responding. Install from https://lmstudio.ai/download and run "
    "'lms server start'."
)


class LocalModelError(Exception):
    """The local model cannot be used; the message says why and what to do."""


def oss_provider(local_provider: str | None, merged: Mapping[str, Any]) -> str:
    """The provider ``--oss`` runs: ``--local-provider``, else the configuration's ``oss_provider``."""
    chosen = local_provider or merged.get("oss_provider")
    if not isinstance(chosen, str) or not chosen:
        raise LocalModelError(NO_PROVIDER)
    return chosen


def local_base_url(provider_id: str, env: Mapping[str, str] | None = None) -> str:
    """Where the built-in provider ``provider_id`` listens, as Codex reads it from the environment."""
    environ = os.environ if env is None else env
    url = environ.get("CODEX_OSS_BASE_URL", "").strip()
    if url:
        return url
    port = environ.get("CODEX_OSS_PORT", "").strip()
    return f"http://localhost:{port if port.isdigit() else LOCAL_PROVIDERS[provider_id]}/v1"


def with_local_base_url(settings: ModelSettings, env: Mapping[str, str] | None = None) -> ModelSettings:
    """``settings`` with a built-in local provider pointed where the environment says (unchanged for any
    other provider: a configured provider's ``base_url`` is the user's own)."""
    if settings.provider_id not in LOCAL_PROVIDERS:
        return settings
    provider = settings.provider.model_copy(update={"base_url": local_base_url(settings.provider_id, env)})
    return settings.model_copy(update={"provider": provider})


async def check_local_server(settings: ModelSettings) -> None:
    """Raise :class:`LocalModelError` unless the built-in local provider's server answers (and, for
    Ollama, is new enough); a provider that is not a built-in local one is not checked."""
    if settings.provider_id not in LOCAL_PROVIDERS:
        return
    base = settings.base_url.rstrip("/")
    down = OLLAMA_DOWN if settings.provider_id == "ollama" else LMSTUDIO_DOWN
    async with httpx.AsyncClient(timeout=CHECK_TIMEOUT_S, trust_env=False) as http:
        try:
            (await http.get(f"{base}/models")).raise_for_status()
        except httpx.HTTPError:
            raise LocalModelError(down) from None
        if settings.provider_id == "ollama":
            await _check_ollama_version(http, base)


async def _check_ollama_version(http: httpx.AsyncClient, base: str) -> None:
    """Refuse an Ollama older than the Responses API; a version that cannot be read is let through."""
    parts = urlsplit(base)
    root = urlunsplit((parts.scheme, parts.netloc, re.sub(r"/v1/?$", "", parts.path), "", ""))
    try:
        answer = await http.get(f"{root}/api/version")
        version = str(answer.json().get("version", ""))
    except (httpx.HTTPError, ValueError, AttributeError):
        return
    match = re.match(r"(\d+)\.(\d+)\.(\d+)", version)
    if match is None or version.startswith("0.0.0"):
        return
    if tuple(int(n) for n in match.groups()) < MIN_OLLAMA:
        minimum = ".".join(map(str, MIN_OLLAMA))
        raise LocalModelError(
            f"OSS setup failed: Ollama {version} is too old. codex-lsp, like Codex, needs Ollama {minimum} "
            "or newer (its Responses API)."
        )
