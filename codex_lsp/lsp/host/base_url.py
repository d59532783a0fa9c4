"""An editor-supplied base URL and the user's credential: a credential goes only where the user sends it.

``codex.baseUrl`` and ``codex.provider`` come from the editor's settings, and some editors read those
from files a cloned repository controls (Helix's ``.helix/languages.toml``, Neovim's exrc, a project's
``.vscode/settings.json`` in a trusted workspace). A repository must not be able to point the user's
key at its own server, so:

- ``codex.provider`` alone moves nothing: a provider's credential goes to that provider's base URL
  as the user's ``$CODEX_HOME/config.toml`` (or Codex's defaults) names it.
- ``codex.baseUrl`` naming another endpoint than that (compared by scheme, host, port and path;
  ``ws(s)`` counts as ``http(s)``) is a :class:`Redirect`. Its requests get nothing of
  :meth:`~codex_lsp.model.ModelSettings.carries_secrets` — no key, no ChatGPT token or account header,
  no configured header — until the user consents: by answering :data:`SEND` when a turn first needs
  it (``window/showMessageRequest``), remembered until the server exits, or by writing the URL into
  config.toml, their own file. No consent: the turn fails before anything is sent, with the reason in
  ``window/showMessage`` and in its result; ``codex.status`` shows it as ``credentialWithheld``.
- A provider with nothing to withhold (a local model server) takes any URL without a question.
- Loopback addresses get no exemption: a port on 127.0.0.1 may be a tunnel to anywhere, or another
  local user's process.

Consent cannot come from an editor setting: that is the very thing a project file can set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from codex_lsp.model import ModelSettings

__all__ = ["DONT_SEND", "SEND", "Redirect", "endpoint", "redirect_of"]

SEND = "Send for this session"
DONT_SEND = "Don't send"
_SCHEMES = {"ws": "http", "wss": "https"}
_PORTS = {"http": 80, "https": 443}

Endpoint = tuple[str, str, int | None, str]


def endpoint(url: str) -> Endpoint | None:
    """Where requests to ``url`` go: scheme (WebSocket schemes as their HTTP ones), host, port (the
    scheme's default filled in) and path without a trailing slash; two URLs with the same endpoint
    reach the same server. ``None`` — equal to nothing — for a URL that URL parsers may read
    differently (user info, a backslash, a bad port), so such a URL always needs consent."""
    text = url.strip()
    parts = urlsplit(text)
    try:
        port = parts.port
    except ValueError:
        return None
    if "\\" in text or "@" in parts.netloc or not parts.hostname:
        return None
    scheme = _SCHEMES.get(parts.scheme.lower(), parts.scheme.lower())
    return scheme, parts.hostname.lower(), port or _PORTS.get(scheme), parts.path.rstrip("/")


@dataclass(frozen=True)
class Redirect:
    """The editor's base URL for a provider whose configuration names another one."""

    provider: str
    url: str
    """The editor's ``codex.baseUrl``."""
    configured: str
    """The provider's base URL in the user's configuration (or Codex's default)."""
    carrying: str
    """What the requests would carry, in words (never a secret)."""

    @property
    def key(self) -> tuple[str, str]:
        """What a consent is remembered by: the provider and the URL, as the editor wrote it."""
        return self.provider, self.url

    def question(self) -> str:
        return (
            f"Codex: the editor's settings (codex.baseUrl) send the requests of provider {self.provider!r} "
            f"to {self.url}, not to {self.configured} as your configuration does. Send {self.carrying} "
            "there? Editor settings can come from a project's own files."
        )

    def refusal(self) -> str:
        return (
            f"codex.baseUrl sends the requests of provider {self.provider!r} to {self.url}, not to "
            f"{self.configured} as your configuration does, so {self.carrying} is not sent there without "
            "your consent, and nothing was sent. Allow it when Codex asks, set that base_url in "
            "$CODEX_HOME/config.toml, or remove codex.baseUrl."
        )


def _carrying(base: ModelSettings) -> str:
    if base.api_key is not None:
        return f"your API key ({base.key_source or 'the configuration'})"
    if base.account_home is not None:
        return "your ChatGPT sign-in" if base.account_mode == "chatgpt" else "your OpenAI sign-in"
    if base.provider.experimental_bearer_token is not None:
        return "your bearer token (experimental_bearer_token)"
    return "the headers your configuration sets for it"


def redirect_of(base: ModelSettings, url: str | None, env: Mapping[str, str]) -> Redirect | None:
    """The :class:`Redirect` the editor's ``url`` makes of ``base`` (the settings from the user's own
    configuration), or ``None``: no URL, the configured endpoint, or nothing to withhold."""
    if not url or not base.carries_secrets(env):
        return None
    mine = endpoint(url)
    if mine is not None and mine == endpoint(base.base_url):
        return None
    return Redirect(base.provider_id, url, base.base_url, _carrying(base))
