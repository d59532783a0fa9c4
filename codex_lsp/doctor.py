"""``codex-lsp doctor``: the first thing to run when nothing works.

It reads the same settings the server reads (``$CODEX_HOME/config.toml`` and ``auth.json``), says which
provider, model, base URL and credential are in use — the sign-in's kind and source; for a ChatGPT
sign-in the account, plan and whether a token refresh is due; never a key or token —, then sends one tiny
request the way a turn would: a WebSocket handshake first (timed on its own), or HTTP SSE when the provider
does not support WebSocket or the server refuses the upgrade. It reports the transport that carried the
request, the handshake and first-event latencies, the model the server says it served, and, when something
fails, what went wrong and what to do about it (:data:`CAUSES`). It also says whether the shell sandbox
works.

The exit status is 0 only when a request completed. The probe makes a single attempt per transport (no
retry budget, no overload schedule): retries would hide the first error, which is the one a user needs.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from codex_lsp.model import (
    AuthError,
    ConfigError,
    ConnectFailed,
    FallbackNotice,
    FatalModelError,
    IdleTimeout,
    ModelClient,
    ModelError,
    ModelSettings,
    Prompt,
    ProtocolError,
    RateLimited,
    ResponseCompleted,
    RetriesExhausted,
    RetryNotice,
    RetryPolicy,
    ServerError,
    ServerOverloaded,
    StreamClosed,
    TurnSession,
    UpgradeRequired,
    codex_home,
    load_permissions,
    load_settings,
)

__all__ = ["CAUSES", "Cause", "DoctorReport", "diagnose", "main", "render_json", "render_text"]

PROBE_TEXT = "This is a connectivity check from codex-lsp doctor. Reply with the single word: ok"
SINGLE_ATTEMPT = RetryPolicy(base_delay=0.0, overload_delays=())


@dataclass
class DoctorReport:
    """Everything doctor found; ``--json`` prints it as is. Holds no secret."""

    codex_home: str
    codex_home_exists: bool = True
    config_file: str | None = None
    """The config.toml in use, or the one that failed to load."""
    settings_loaded: bool = False
    """Whether config.toml and auth.json were read without error (otherwise the key was not looked up)."""
    bad_file: str | None = None
    """The file the error is about, when a file is wrong (config.toml or auth.json)."""
    provider: str | None = None
    provider_name: str | None = None
    model: str | None = None
    base_url: str | None = None
    key_source: str | None = None
    account_mode: str | None = None
    """``chatgpt`` or ``apikey`` (the OpenAI sign-in in use), else ``None``."""
    account: dict[str, Any] | None = None
    """Who is signed in (email, plan, workspace, refresh due…); never a token."""
    websockets_configured: bool | None = None
    transport: str | None = None
    """The transport that carried the request (or was last tried)."""
    fallback: str | None = None
    """Why the client left WebSocket for HTTP SSE, when it did."""
    handshake_ms: float | None = None
    first_event_ms: float | None = None
    total_ms: float | None = None
    served_model: str | None = None
    completed: bool = False
    stage: str = "config"
    """How far doctor got: ``config``, ``handshake``, ``request`` or ``done``."""
    error: str | None = None
    cause: str | None = None
    """The :data:`CAUSES` entry that matched the error."""
    advice: str | None = None
    sandbox: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 only when a request completed."""
        return 0 if self.completed else 1


@dataclass(frozen=True)
class Cause:
    """One row of the error table: which errors it covers and what the user should do."""

    name: str
    matches: Callable[[ModelError], bool]
    advice: str
    """A template; ``{base_url}``, ``{config}``, ``{file}`` (the file that is wrong, else config.toml),
    ``{key_source}``, ``{home}``, ``{env_key}`` and ``{timeout}`` are filled in from the report."""


def _timed_out(exc: ModelError) -> bool:
    return isinstance(exc, ConnectFailed) and "timed out" in exc.message


CAUSES: tuple[Cause, ...] = (
    Cause(
        "no_key",
        lambda e: isinstance(e, ConfigError) and e.message.startswith("Missing environment variable"),
        "Export {env_key}=<key> in the environment the server starts from: it is the env_key of this "
        "provider in {config}, and the only key it is given.",
    ),
    Cause(
        "not_signed_in",
        lambda e: isinstance(e, AuthError) and e.message.startswith("Not signed in"),
        "Sign in: `codex-lsp login` (your ChatGPT account; add --device-auth on a machine without a "
        "browser) or `codex-lsp login --with-api-key`; a sign-in made with `codex login` works too.",
    ),
    Cause(
        "sign_in_again",
        lambda e: isinstance(e, AuthError) and "sign in again" in e.message.lower(),
        "Sign in again: `codex-lsp logout`, then `codex-lsp login` (or `codex logout` and `codex login`).",
    ),
    Cause(
        "forced_login",
        lambda e: isinstance(e, AuthError) and "login is required" in e.message,
        "config.toml's forced_login_method allows only the other kind of sign-in: sign out and sign in "
        "with that kind.",
    ),
    Cause(
        "auth_file",
        lambda e: isinstance(e, ConfigError) and e.path is not None and e.path.name == "auth.json",
        "Fix or remove {file}: `codex-lsp login` (or `codex login`) writes a new one; it is never "
        "rewritten or deleted for you.",
    ),
    Cause(
        "config",
        lambda e: isinstance(e, ConfigError),
        "Fix the setting the message names in {file}; unknown keys are ignored, wrong values are not.",
    ),
    Cause(
        "key_refused",
        lambda e: isinstance(e, AuthError),
        "The server at {base_url} refused the key from {key_source}: check that it belongs to this "
        "provider and is not revoked or expired, then replace it where it comes from.",
    ),
    Cause(
        "connect_timeout",
        _timed_out,
        "Nothing answered at {base_url} within {timeout:g} s: check the network and any proxy "
        "(HTTPS_PROXY, ALL_PROXY, NO_PROXY); for slow links raise --timeout or websocket_connect_timeout_ms.",
    ),
    Cause(
        "websocket_refused",
        lambda e: isinstance(e, ConnectFailed) and e.status is not None,
        "The server answered the WebSocket upgrade with an error: if it does not speak Responses over "
        "WebSocket, set supports_websockets = false for this provider in {config}.",
    ),
    Cause(
        "connect",
        lambda e: isinstance(e, ConnectFailed),
        "Could not connect to {base_url}: check base_url in {config}, that the server is running and "
        "reachable from here, and any proxy (HTTPS_PROXY, ALL_PROXY, NO_PROXY).",
    ),
    Cause(
        "upgrade",
        lambda e: isinstance(e, UpgradeRequired),
        "The server refused WebSocket (426) and HTTP failed too; set supports_websockets = false in "
        "{config} and check the HTTP error.",
    ),
    Cause(
        "no_endpoint",
        lambda e: isinstance(e, FatalModelError) and e.status == 404,
        "There is no Responses API at {base_url}/responses: base_url usually ends in /v1, and the server "
        "must implement the Responses API (not only Chat Completions).",
    ),
    Cause(
        "refused",
        lambda e: isinstance(e, FatalModelError),
        "The server refused the request: check `model` and the provider in {config}, and the account's "
        "quota and plan.",
    ),
    Cause(
        "rate_limited",
        lambda e: isinstance(e, RateLimited),
        "Rate limited: wait a moment and run doctor again; check the account's limits.",
    ),
    Cause(
        "overloaded",
        lambda e: isinstance(e, ServerOverloaded),
        "The server is overloaded: try again later.",
    ),
    Cause(
        "server_error",
        lambda e: isinstance(e, ServerError),
        "The server failed: try again later, or read its logs if you run it.",
    ),
    Cause(
        "timeout",
        lambda e: isinstance(e, IdleTimeout),
        "No complete answer within {timeout:g} s: check that base_url ({base_url}) is the server you mean "
        "and that it is running; if it is just slow, raise --timeout (and stream_idle_timeout_ms for real "
        "turns).",
    ),
    Cause(
        "bad_stream",
        lambda e: isinstance(e, StreamClosed | ProtocolError),
        "The server broke off the stream or sent something that is not a Responses event stream: check "
        "that base_url points at an OpenAI-compatible Responses endpoint.",
    ),
    Cause("other", lambda e: True, "See the error above; run with --debug for the transport log."),
)


def _root_cause(exc: ModelError) -> ModelError:
    """The error behind a spent retry budget (doctor's budget is zero, so it is the only attempt's)."""
    cause = exc.__cause__
    if isinstance(exc, RetriesExhausted) and isinstance(cause, ModelError):
        return cause
    return exc


def _fail(report: DoctorReport, exc: ModelError, timeout: float, env_key: str | None = None) -> None:
    root = _root_cause(exc)
    cause = next(c for c in CAUSES if c.matches(root))
    config = report.config_file or f"{report.codex_home}/config.toml"
    if isinstance(root, ConfigError) and root.path is not None:
        report.bad_file = str(root.path)
    report.error = root.message
    report.cause = cause.name
    report.advice = cause.advice.format(
        base_url=report.base_url or "the base URL",
        config=config,
        file=report.bad_file or config,
        key_source=report.key_source or "the configuration",
        home=report.codex_home,
        env_key=env_key or "OPENAI_API_KEY",
        timeout=timeout,
    )


def _probe_settings(settings: ModelSettings, timeout: float) -> ModelSettings:
    """The settings with a zero retry budget and timeouts no longer than ``timeout``."""
    provider = settings.provider
    limit_ms = max(1, int(timeout * 1000))
    probe = provider.model_copy(
        update={
            "request_max_retries": 0,
            "stream_max_retries": 0,
            "websocket_connect_timeout_ms": min(provider.websocket_connect_timeout_ms, limit_ms),
            "stream_idle_timeout_ms": min(provider.stream_idle_timeout_ms, limit_ms),
        }
    )
    return settings.model_copy(update={"provider": probe})


def _describe_home(report: DoctorReport, home: Path) -> None:
    """Say whether CODEX_HOME exists, and name its config.toml when there is one (even an invalid one, so
    that a load error is never reported as "no config")."""
    report.codex_home_exists = home.is_dir()
    if home.exists() and not home.is_dir():
        report.notes.append(f"CODEX_HOME {home} is not a directory, so no config.toml or auth.json is read")
    elif not home.exists():
        report.notes.append(
            f"CODEX_HOME {home} does not exist, so the defaults are used (provider openai, signed in with "
            "CODEX_API_KEY or OPENAI_API_KEY, else not at all); `codex-lsp login` creates it"
        )
    config = home / "config.toml"
    report.config_file = str(config) if config.is_file() else None


def _describe_settings(
    report: DoctorReport, settings: ModelSettings, env: Mapping[str, str] | None = None
) -> None:
    report.settings_loaded = True
    report.config_file = str(settings.source) if settings.source else None
    report.provider = settings.provider_id
    report.provider_name = settings.provider.name
    report.model = settings.model
    report.base_url = settings.base_url
    report.key_source = settings.key_source
    report.websockets_configured = settings.provider.supports_websockets
    account = settings.account(env)
    report.account_mode = account.mode
    if account.mode is not None:
        report.key_source = account.source
        report.account = {k: v for k, v in account.as_dict().items() if v not in (None, False)}


async def _handshake(client: ModelClient, session: TurnSession, report: DoctorReport) -> None:
    """Open the WebSocket on its own so that its latency and its failure are reported apart."""
    started = time.perf_counter()
    try:
        if await session.preconnect():
            report.handshake_ms = (time.perf_counter() - started) * 1000
    except UpgradeRequired as exc:
        client.disable_websockets(exc.message)
        report.fallback = exc.message
    except ConnectFailed as exc:
        if exc.status is None:
            raise  # nothing listens there: HTTP on the same host and port would fail the same way
        client.disable_websockets(exc.message)
        report.fallback = exc.message
        report.notes.append(
            "the server refused the WebSocket upgrade but answers HTTP, so HTTP SSE was tried; if it "
            "works, set supports_websockets = false to skip the attempt"
        )


async def _request(client: ModelClient, session: TurnSession, report: DoctorReport) -> None:
    """Send the tiny request and time its first event."""
    message = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": PROBE_TEXT}]}
    prompt = Prompt(input=[message], hosted_tools=False)
    started = time.perf_counter()
    report.transport = client.transport
    async for event in session.stream(prompt):
        if isinstance(event, FallbackNotice):
            report.fallback = event.reason
            report.transport = client.transport
            continue
        if isinstance(event, RetryNotice):
            continue
        if report.first_event_ms is None:
            report.first_event_ms = (time.perf_counter() - started) * 1000
        if isinstance(event, ResponseCompleted):
            report.completed = True
            report.served_model = client.served_model or event.response.model


async def _probe(client: ModelClient, report: DoctorReport) -> None:
    session = client.new_turn()
    report.transport = client.transport
    if client.transport == "websocket":
        report.stage = "handshake"
        await _handshake(client, session, report)
    report.stage = "request"
    await _request(client, session, report)
    report.stage = "done"


async def _sandbox(report: DoctorReport, home: Path, env: Mapping[str, str] | None) -> None:
    """Whether shell commands would run sandboxed (bubblewrap), in the sandbox config.toml names."""
    from codex_lsp.agent import AgentSettings, sandbox_status

    try:
        settings = AgentSettings().configured(load_permissions(home, env))
    except ConfigError:
        settings = AgentSettings()  # the configuration's own problem is reported below
    status = await asyncio.to_thread(sandbox_status, settings)
    report.sandbox = {"active": status.active, "tool": status.tool, "detail": status.detail}


async def diagnose(
    home: Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    deadline: float = 20.0,
    check_sandbox: bool = True,
) -> DoctorReport:
    """Run every check and return the report (never raises for a transport or config problem).

    ``deadline`` (seconds, positive: anything else is a ``ValueError``, a caller's mistake rather than a
    network problem) bounds the handshake and the request together, and caps the provider's connect and
    idle timeouts for this probe.
    """
    if not deadline > 0:
        raise ValueError(f"the deadline must be a positive number of seconds, not {deadline}")
    home = home if home is not None else codex_home(env)
    report = DoctorReport(codex_home=str(home))
    _describe_home(report, home)
    if check_sandbox:
        await _sandbox(report, home, env)
    try:
        settings = load_settings(home, env)
    except ConfigError as exc:
        _fail(report, exc, deadline)
        return report
    _describe_settings(report, settings, env)
    try:
        settings.require_credentials(env)
    except (ConfigError, AuthError) as exc:
        _fail(report, exc, deadline, settings.provider.env_key)
        return report
    if report.account_mode is None and settings.api_key is None:
        report.notes.append("this provider takes no credential, so none is sent")
    client = ModelClient(
        _probe_settings(settings, deadline), retry_policy=SINGLE_ATTEMPT, prewarm=False, env=env
    )
    started = time.perf_counter()
    try:
        async with client, asyncio.timeout(deadline):
            await _probe(client, report)
    except ModelError as exc:
        _fail(report, exc, deadline)
    except TimeoutError:
        if report.stage == "handshake":
            _fail(report, ConnectFailed(f"WebSocket handshake timed out after {deadline:g} s"), deadline)
        else:
            _fail(report, IdleTimeout(f"no complete answer within {deadline:g} s"), deadline)
    report.total_ms = (time.perf_counter() - started) * 1000
    report.transport = client.transport if report.transport is None else report.transport
    _scrub(report, client.secrets())
    return report


def _scrub(report: DoctorReport, secrets: tuple[str, ...]) -> None:
    """Mask any secret that reached a text field (errors quote server messages, which may echo anything)."""
    for name in ("error", "advice", "fallback", "served_model"):
        value = getattr(report, name)
        for secret in secrets:
            if value and secret:
                value = value.replace(secret, "***")
        setattr(report, name, value)


def _ms(value: float | None, missing: str) -> str:
    return f"{value:.1f} ms" if value is not None else missing


def _config_row(report: DoctorReport) -> str:
    if report.config_file is None:
        return "none found (defaults)"
    return report.config_file + (" (invalid)" if report.bad_file == report.config_file else "")


def _key_row(report: DoctorReport) -> str:
    account = report.account or {}
    if report.account_mode == "chatgpt":
        who = ", ".join(str(account[k]) for k in ("email", "plan") if account.get(k))
        workspace = f"workspace {account['accountId']}" if account.get("accountId") else "no workspace id"
        return f"ChatGPT sign-in ({who}; {workspace}) from {report.key_source}"
    if report.key_source:
        return f"from {report.key_source}"
    if not report.settings_loaded:
        return f"not checked ({report.bad_file or 'the settings'} could not be read)"
    return "not found"


def _refresh_rows(report: DoctorReport) -> list[tuple[str, str | None]]:
    """For a ChatGPT sign-in: when the access token expires and whether the next request refreshes it."""
    account = report.account or {}
    if report.account_mode != "chatgpt":
        return []
    expires = account.get("expiresAt")
    if isinstance(expires, int | float):
        minutes = (expires - time.time()) / 60
        expiry = f"expires in {minutes:.0f} min" if minutes >= 0 else f"expired {-minutes:.0f} min ago"
    else:
        expiry = f"opaque token, last refreshed {account.get('lastRefresh') or 'never'}"
    due = account.get("refreshDue")
    refresh = f"due ({due}): the next request refreshes it first" if due else "not due"
    rows: list[tuple[str, str | None]] = [("access token", expiry), ("refresh", refresh)]
    if account.get("problem"):
        rows.append(("problem", str(account["problem"])))
    return rows


def render_text(report: DoctorReport) -> str:
    """The report for people, one fact per line."""
    transport = report.transport or "-"
    if report.fallback:
        transport += " (fell back from WebSocket)"
    provider = report.provider
    if provider and report.provider_name:
        provider += f" ({report.provider_name})"
    websocket = "-"
    if report.websockets_configured is not None:
        websocket = "enabled" if report.websockets_configured else "disabled (supports_websockets = false)"
    rows = [
        ("codex home", report.codex_home + ("" if report.codex_home_exists else " (missing)")),
        ("config", _config_row(report)),
        ("provider", provider),
        ("model", report.model),
        ("base URL", report.base_url),
        ("sign-in", _key_row(report)),
        *_refresh_rows(report),
        ("WebSocket", websocket),
        ("transport", transport),
        ("handshake", _ms(report.handshake_ms, "n/a" if report.transport == "http" else "-")),
        ("first event", _ms(report.first_event_ms, "-")),
        ("served model", report.served_model),
    ]
    if report.sandbox is not None:
        state = "active" if report.sandbox["active"] else "inactive"
        rows.append(("sandbox", f"{state}: {report.sandbox['detail']}"))
    if report.fallback:
        rows.append(("fallback", report.fallback))
    rows += [("note", note) for note in report.notes]
    if report.completed:
        rows.append(("result", f"OK: a request completed in {_ms(report.total_ms, '-')}"))
    else:
        rows += [("result", "FAILED"), ("error", report.error), ("what to do", report.advice)]
    width = max(len(label) for label, _ in rows)
    lines = ["codex-lsp doctor"] + [f"  {label:<{width}}  {value or '-'}" for label, value in rows]
    return "\n".join(lines) + "\n"


def render_json(report: DoctorReport) -> str:
    """The report for machines."""
    data = dataclasses.asdict(report)
    data["exit_code"] = report.exit_code
    return json.dumps(data, indent=2) + "\n"


def main(
    codex_home_dir: str | None, *, timeout: float, as_json: bool, debug: bool, out: TextIO | None = None
) -> int:
    """Run doctor from the command line and return the exit status."""
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.ERROR,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    home = Path(codex_home_dir).expanduser() if codex_home_dir else None
    report = asyncio.run(diagnose(home, deadline=timeout))
    (out or sys.stdout).write(render_json(report) if as_json else render_text(report))
    return report.exit_code
