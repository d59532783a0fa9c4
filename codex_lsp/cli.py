"""Command-line entry point.

Sub-commands import their modules lazily so that ``--version`` and ``--help`` stay instant and so
that the server modes do not pay for code they never run.
"""

from __future__ import annotations

import argparse
import sys
import typing
from collections.abc import Callable, Sequence
from typing import Any

from codex_lsp import __version__

Handler = Callable[[argparse.Namespace], int]


def _cmd_apply_patch(args: argparse.Namespace) -> int:
    from codex_lsp.patch import run_apply_patch

    return run_apply_patch(args.patch_file, root=args.root)


def _config_request(args: argparse.Namespace, cwd: str | None, flags: dict[str, object] | None = None) -> Any:
    """The configuration a command's ``--profile``, ``-c`` and flags ask for (layered as Codex layers)."""
    from pathlib import Path

    from codex_lsp.model import ConfigRequest

    return ConfigRequest(
        profile=args.profile,
        cwd=Path(cwd).resolve() if cwd else None,
        overrides=tuple(args.config),
        flags=flags or {},
    )


def exec_flags(args: argparse.Namespace) -> dict[str, object]:
    """The settings ``exec``'s own flags set, as the configuration's flag layer (``-m`` → ``model``,
    ``-s`` → ``sandbox_mode``; ``None`` when not given). ``--oss`` adds its provider and model later, once
    the configuration is read (its ``oss_provider``)."""
    return {"model": args.model, "sandbox_mode": args.sandbox}


def _cmd_exec(args: argparse.Namespace) -> int:
    import asyncio
    from pathlib import Path

    from codex_lsp.agent import AgentSettings
    from codex_lsp.headless import run_exec

    if not Path(args.cd).is_dir():
        print(f"codex-lsp exec: --cd {args.cd} is not a directory", file=sys.stderr)
        return 1
    if args.ephemeral and args.thread:
        print(
            "codex-lsp exec: --ephemeral saves nothing, so it cannot continue a saved thread (--thread)",
            file=sys.stderr,
        )
        return 2
    prompt = " ".join(args.prompt)
    if prompt == "-":
        prompt = sys.stdin.read()
    settings = AgentSettings(shell_enabled=args.shell, shell_allow=tuple(args.allow))
    return asyncio.run(
        run_exec(
            prompt,
            cd=Path(args.cd),
            dry_run=args.dry_run,
            thread_id=args.thread,
            settings=settings,
            config=_config_request(args, args.cd, exec_flags(args)),
            json_events=args.json,
            last_message=Path(args.output_last_message) if args.output_last_message else None,
            ephemeral=args.ephemeral,
            skip_git_repo_check=args.skip_git_repo_check,
            oss=args.oss,
            local_provider=args.local_provider,
        )
    )


def _cmd_config(args: argparse.Namespace) -> int:
    from codex_lsp.config_report import run_config

    return run_config(_config_request(args, args.cd), as_json=args.json)


def _add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """``-p/--profile`` and ``-c/--config``, as Codex's commands take them."""
    parser.add_argument(
        "-p",
        "--profile",
        metavar="NAME",
        help="lay $CODEX_HOME/NAME.config.toml over config.toml (as `codex --profile`)",
    )
    parser.add_argument(
        "-c",
        "--config",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help='override a setting: a dotted key, the value TOML (else the raw text), e.g. -c model="o3"',
    )


def _cmd_threads(args: argparse.Namespace) -> int:
    from codex_lsp.headless import run_threads

    return run_threads()


def _cmd_doctor(args: argparse.Namespace) -> int:
    from codex_lsp.doctor import main as run_doctor

    return run_doctor(args.codex_home, timeout=args.timeout, as_json=args.json, debug=args.debug)


def _cmd_login(args: argparse.Namespace) -> int:
    from codex_lsp.signin import run_login, run_status

    if args.action == "status":
        if args.device_auth or args.with_api_key:
            print("codex-lsp login status: takes no options", file=sys.stderr)
            return 2
        return run_status()
    if args.device_auth and args.with_api_key:
        print("codex-lsp login: --device-auth and --with-api-key exclude each other", file=sys.stderr)
        return 2
    return run_login(device=args.device_auth, api_key=args.with_api_key)


def _cmd_logout(args: argparse.Namespace) -> int:
    from codex_lsp.signin import run_logout

    return run_logout()


def _add_account_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    login = sub.add_parser(
        "login",
        help="sign in with your ChatGPT account (or an API key), as `codex login` does",
        description=(
            "Sign in and write $CODEX_HOME/auth.json exactly as `codex login` does, so Codex and codex-lsp "
            "share the sign-in. Without options: the browser (a callback on 127.0.0.1:1455). "
            "`codex-lsp login status` says who is signed in."
        ),
    )
    login.add_argument("action", nargs="?", choices=["status"], help="status: show who is signed in")
    login.add_argument(
        "--device-auth",
        action="store_true",
        help="sign in with a code entered on any device (no browser or port needed here)",
    )
    login.add_argument(
        "--with-api-key",
        action="store_true",
        help="read an API key from standard input (e.g. printenv OPENAI_API_KEY | codex-lsp login ...)",
    )
    login.set_defaults(handler=_cmd_login)
    logout = sub.add_parser(
        "logout",
        help="sign out: revoke the sign-in and delete $CODEX_HOME/auth.json",
        description="Revoke the ChatGPT sign-in (a failed revocation is ignored) and delete auth.json.",
    )
    logout.set_defaults(handler=_cmd_logout)


def _cmd_demo(args: argparse.Namespace) -> int:
    import asyncio

    from codex_lsp.demo import run_demo

    try:
        return asyncio.run(run_demo(live=args.live))
    except KeyboardInterrupt:  # the server was ended on the way out (the demo always reaps it)
        print("codex-lsp demo: interrupted", file=sys.stderr)
        return 130


def _cmd_acp(args: argparse.Namespace) -> int:
    import asyncio

    from codex_lsp.acp.server import run_acp
    from codex_lsp.agent import AgentSettings

    settings = AgentSettings(shell_enabled=args.shell, shell_allow=tuple(args.allow))
    config = _config_request(args, None)
    return asyncio.run(run_acp(settings, log_level=args.acp_log_level, config=config))


def _cmd_acp_login(args: argparse.Namespace) -> int:
    """``codex-lsp acp … login [--device-auth]``: what an ACP client runs in a terminal for the sign-in
    method of kind ``terminal`` (it appends the method's arguments to the agent's command)."""
    from codex_lsp.signin import run_login

    return run_login(device=args.device_auth, api_key=False)


def _add_acp_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    acp = sub.add_parser(
        "acp",
        help="serve the agent to an Agent Client Protocol editor (Zed, JetBrains…) on stdio",
        description=(
            "Speak the Agent Client Protocol on stdin/stdout, as ACP editors start agents. Files are "
            "read and written through the editor when it offers that, else on disk; commands and edits "
            "follow the session's mode (auto, review or read-only)."
        ),
    )
    acp.add_argument("--shell", action="store_true", help="offer the shell tool (each command is approved)")
    acp.add_argument("--allow", action="append", default=[], metavar="CMD", help="run CMD without asking")
    acp.add_argument(
        "--log-level",
        dest="acp_log_level",
        type=str.lower,
        choices=LOG_LEVELS,
        default="warning",
        help="stderr log verbosity (default: warning)",
    )
    _add_config_arguments(acp)
    acp.set_defaults(handler=_cmd_acp)
    actions = acp.add_subparsers(dest="acp_action", metavar="{login}")
    login = actions.add_parser(
        "login",
        help="sign in, as `codex-lsp login` (what ACP clients run in a terminal for the device code)",
        description="The same as `codex-lsp login`, after the agent's own options.",
    )
    login.add_argument("--device-auth", action="store_true", help="sign in with a code entered on any device")
    login.set_defaults(handler=_cmd_acp_login)


SANDBOX_MODES = ("read-only", "workspace-write", "danger-full-access")
"""``-s/--sandbox``: Codex's ``sandbox_mode`` values."""


def _add_exec_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``codex-lsp exec``, with ``codex exec``'s options spelled as Codex spells them."""
    ex = sub.add_parser(
        "exec",
        help="run one agent turn on a folder from the terminal",
        description=(
            "Run one agent turn without an editor: the agent's text streams to stdout (or, with --json, "
            "Codex's JSON Lines events), patches are applied atomically. As `codex exec`, it refuses a "
            "folder outside a Git repository unless --skip-git-repo-check. Exit status 0 completed, "
            "1 failed, 130 interrupted."
        ),
        allow_abbrev=False,
    )
    ex.add_argument("prompt", nargs="+", metavar="PROMPT", help="what to do (- reads it from stdin)")
    ex.add_argument(
        "-C", "--cd", default=".", metavar="DIR", help="workspace folder (default: current directory)"
    )
    ex.add_argument("--dry-run", action="store_true", help="print the diff instead of writing files")
    ex.add_argument("-m", "--model", help="model to use (default: from the configuration)")
    _add_config_arguments(ex)
    ex.add_argument(
        "-s",
        "--sandbox",
        choices=SANDBOX_MODES,
        metavar="SANDBOX_MODE",
        help="sandbox_mode for this run: read-only, workspace-write or danger-full-access",
    )
    ex.add_argument(
        "--skip-git-repo-check", action="store_true", help="allow running outside a Git repository"
    )
    ex.add_argument(
        "--json", action="store_true", help="print the events to stdout as JSONL (Codex's shapes)"
    )
    ex.add_argument(
        "-o",
        "--output-last-message",
        metavar="FILE",
        help="write the last agent message to FILE when the turn completes",
    )
    ex.add_argument("--ephemeral", action="store_true", help="save no thread (nothing to continue later)")
    ex.add_argument(
        "--oss",
        action="store_true",
        help="use a local model server (Ollama or LM Studio), with no credential",
    )
    ex.add_argument(
        "--local-provider",
        metavar="OSS_PROVIDER",
        help="with --oss: lmstudio or ollama (default: oss_provider in config.toml)",
    )
    ex.add_argument("--thread", metavar="ID", help="continue a saved thread")
    ex.add_argument("--shell", action="store_true", help="offer the shell tool (each command is approved)")
    ex.add_argument("--allow", action="append", default=[], metavar="CMD", help="run CMD without asking")
    ex.set_defaults(handler=_cmd_exec)


def _positive_seconds(text: str) -> float:
    """An ``argparse`` type: a finite number of seconds above zero (a bad value is a usage error at once,
    not a failure blamed on the network later)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not (value > 0 and value != float("inf")):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text}")
    return value


# --- the language server modes: codex-lsp --stdio | --tcp HOST:PORT | --ws HOST:PORT ---------------

if typing.TYPE_CHECKING:
    from codex_lsp.lsp.access import ListenAddress
    from codex_lsp.lsp.serve import Transport

_SERVER_MODES = ("stdio", "tcp", "ws")
# The same as codex_lsp.lsp.logging_setup.LOG_LEVELS, spelled out so --version never imports logging.
LOG_LEVELS = ("debug", "info", "warning", "error")
_SOCKET_ONLY = ("token_file", "allow_remote")


def _listen_address(text: str) -> ListenAddress:
    from codex_lsp.lsp.access import AccessError, parse_listen_address

    try:
        return parse_listen_address(text)
    except AccessError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _origin(text: str) -> str:
    from codex_lsp.lsp.access import AccessError, normalize_origin

    try:
        return normalize_origin(text)
    except AccessError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _add_server_arguments(parser: argparse.ArgumentParser) -> None:
    from pathlib import Path

    group = parser.add_argument_group(
        "language server",
        "Run the language server instead of a command. The socket modes listen on 127.0.0.1 "
        "by default, serve one client and require a token.",
    )
    mode = group.add_mutually_exclusive_group()
    mode.add_argument("--stdio", action="store_true", help="speak LSP on stdin/stdout (what editors run)")
    mode.add_argument("--tcp", type=_listen_address, metavar="HOST:PORT", help="listen for one TCP client")
    mode.add_argument("--ws", type=_listen_address, metavar="HOST:PORT", help="listen for a WebSocket client")
    group.add_argument(
        "--log-level", type=str.lower, choices=LOG_LEVELS, help="log verbosity (default: info)"
    )
    group.add_argument("--log-file", type=Path, metavar="PATH", help="append logs here instead of stderr")
    group.add_argument(
        "--token-file", type=Path, metavar="PATH", help="read the token from PATH (default: generate, print)"
    )
    group.add_argument(
        "--allow-origin",
        type=_origin,
        action="append",
        metavar="ORIGIN",
        help="--ws: let browser pages from ORIGIN (scheme://host[:port]) connect; repeatable",
    )
    group.add_argument(
        "--allow-remote", action="store_true", help="allow --tcp/--ws on an address that is not loopback"
    )


def _server_mode(parser: argparse.ArgumentParser, args: argparse.Namespace) -> str | None:
    """Return the server mode asked for (or None), after checking the server flags fit together."""
    mode = next((name for name in _SERVER_MODES if getattr(args, name)), None)
    given = [name for name in ("log_level", "log_file", "allow_origin", *_SOCKET_ONLY) if getattr(args, name)]
    flag = "--" + (given[0] if given else "").replace("_", "-")
    if mode is None:
        if given:
            parser.error(f"{flag} needs --stdio, --tcp or --ws")
        return None
    if args.command is not None:
        parser.error(f"--{mode} runs the language server; it cannot be combined with {args.command!r}")
    socket_only = [name for name in given if name in (*_SOCKET_ONLY, "allow_origin")]
    if mode == "stdio" and socket_only:
        parser.error(f"--{socket_only[0].replace('_', '-')} needs --tcp or --ws")
    if mode == "tcp" and args.allow_origin:
        parser.error("--allow-origin needs --ws (TCP clients have no origin)")
    address = getattr(args, mode)
    if mode != "stdio" and not address.is_loopback and not args.allow_remote:
        parser.error(f"--{mode} {address.host} is not a loopback address; add --allow-remote to mean it")
    return mode


def _run_server(mode: str, args: argparse.Namespace) -> int:
    from codex_lsp.lsp.serve import ServeOptions, run

    options = ServeOptions(
        transport=typing.cast("Transport", mode),
        address=None if mode == "stdio" else getattr(args, mode),
        log_level=args.log_level or "info",
        log_file=args.log_file,
        token_file=args.token_file,
        allowed_origins=frozenset(args.allow_origin or ()),
    )
    return run(options)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser for ``codex-lsp``."""
    # No abbreviations at the top level: argparse matches every ``--x`` word of the command line against
    # these options before a sub-command sees it, so ``acp --allow`` would be an "ambiguous option"
    # (``--allow-origin`` or ``--allow-remote``) on Python 3.11 to 3.13.
    parser = argparse.ArgumentParser(
        prog="codex-lsp",
        description="A Codex-style coding agent behind the Language Server Protocol.",
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"codex-lsp {__version__}")
    _add_server_arguments(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    ap = sub.add_parser(
        "apply-patch",
        help="apply a patch (Codex apply_patch format or unified diff) atomically",
        description=(
            "Apply a patch in the Codex apply_patch format or as a unified diff to the files under "
            "--root. Either every file changes or none does."
        ),
    )
    ap.add_argument(
        "patch_file",
        nargs="?",
        default="-",
        metavar="FILE",
        help="the patch file, or - for standard input (default)",
    )
    ap.add_argument(
        "--root",
        default=".",
        metavar="DIR",
        help="workspace root that every path is resolved in (default: current directory)",
    )
    ap.set_defaults(handler=_cmd_apply_patch)

    demo = sub.add_parser(
        "demo",
        help='"Fix with Codex" on a small buggy project through the language server, offline',
        description=(
            "Start the language server (codex-lsp --stdio) and drive it as an editor does to fix a real "
            "bug in a temporary project: code actions, the streamed turn, the workspace edit, the diff, "
            "the fixed code running. The model is scripted (a fake server on 127.0.0.1): no API key, "
            "no network."
        ),
    )
    demo.add_argument(
        "--live",
        action="store_true",
        help="use your own model configuration and key instead of the scripted model (exit 2 without a key)",
    )
    demo.set_defaults(handler=_cmd_demo)

    _add_exec_command(sub)

    th = sub.add_parser(
        "threads",
        help="list the saved threads that exec --thread can continue",
        description=(
            "List the saved threads, newest first: id, creation time and the first line of the first "
            "prompt. Threads live under $CODEX_LSP_STATE_DIR (default: the user state directory)."
        ),
    )
    th.set_defaults(handler=_cmd_threads)

    dr = sub.add_parser(
        "doctor",
        help="check the model configuration and connection with one tiny request",
        description=(
            "Read $CODEX_HOME/config.toml and auth.json as the server does, show the provider, model, "
            "base URL and key source (never the key), send one tiny request and report the transport, "
            "latencies, served model, and any error with what to do about it. Exit status 0 only when "
            "the request completed."
        ),
    )
    dr.add_argument(
        "--codex-home", metavar="DIR", help="the Codex home to read (default: $CODEX_HOME or ~/.codex)"
    )
    dr.add_argument(
        "--timeout",
        type=_positive_seconds,
        default=20.0,
        metavar="SECONDS",
        help="give up after this long (default: 20)",
    )
    dr.add_argument("--json", action="store_true", help="print the report as JSON")
    dr.add_argument("--debug", action="store_true", help="log the transport at debug level to stderr")
    dr.set_defaults(handler=_cmd_doctor)

    _add_acp_command(sub)
    _add_account_commands(sub)
    cfg = sub.add_parser(
        "config",
        help="print the configuration as Codex layers it, with where each value came from",
        description=(
            "Read config.toml, the --profile file, the trusted project's .codex/config.toml and the -c "
            "overrides as Codex layers them, and print every setting with the layer it came from, the "
            "provider and credential that result (never a key or token), and the warnings Codex would "
            "give."
        ),
    )
    cfg.add_argument("-C", "--cd", default=".", metavar="DIR", help="the folder to resolve it for")
    cfg.add_argument("--json", action="store_true", help="print it as JSON")
    _add_config_arguments(cfg)
    cfg.set_defaults(handler=_cmd_config)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if (mode := _server_mode(parser, args)) is not None:
        return _run_server(mode, args)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    return handler(args)
