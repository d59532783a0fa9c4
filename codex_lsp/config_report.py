"""``codex-lsp config``: the configuration as Codex layers it, each value with where it came from.

Every setting of every layer (config.toml, the ``--profile`` file, the trusted project's
``.codex/config.toml``, ``-c`` overrides and flags) is printed once, with the layer that set it last; then
what results — the provider and its base URL, the model, the credential's kind and source, the sandbox mode,
the approval policy — and the warnings Codex would give. Secrets never appear: values under secret-looking
names (``api-key`` headers, bearer tokens) and values that look like keys are masked.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any, TextIO

from codex_lsp.model import (
    AuthError,
    ConfigError,
    ConfigRequest,
    codex_home,
    load_config,
    load_permissions,
    load_settings,
)

__all__ = ["flatten", "run_config"]

MASK = "***"
_SECRET_NAMES = ("key", "token", "secret", "password", "authorization", "cookie", "credential")


def _secret(name: str, value: Any) -> bool:
    lowered = name.lower()
    if any(word in lowered for word in _SECRET_NAMES) and not lowered.endswith(("env_key", "_var")):
        return isinstance(value, str) and bool(value)
    return isinstance(value, str) and value.startswith(("sk-", "Bearer "))


def flatten(table: dict[str, Any], at: str = "") -> Iterator[tuple[str, Any]]:
    """``(dotted key, value)`` for every leaf of ``table`` (arrays are leaves)."""
    for key, value in table.items():
        dotted = f"{at}{key}"
        if isinstance(value, dict) and value:
            yield from flatten(value, dotted + ".")
        else:
            yield dotted, value


def _shown(key: str, value: Any) -> Any:
    return MASK if _secret(key.rsplit(".", 1)[-1], value) else value


def report(request: ConfigRequest) -> dict[str, Any]:
    """Everything ``codex-lsp config`` prints, as data."""
    home = codex_home()
    _, layered = load_config(
        home, profile=request.profile, cwd=request.cwd, overrides=request.overrides, flags=request.flags
    )
    settings = load_settings(home, request=request)
    permissions = load_permissions(home, request=request)
    policy = permissions.approval_policy
    account = settings.account()
    return {
        "codexHome": str(home),
        "layers": [layer.label for layer in layered.layers],
        "settings": [
            {"key": key, "value": _shown(key, value), "from": layered.origin(key)}
            for key, value in flatten(layered.merged)
        ],
        "resolved": {
            "model": settings.model,
            "provider": settings.provider_id,
            "baseUrl": settings.base_url,
            "credential": account.mode or ("missing" if account.problem else "none"),
            "credentialSource": account.source,
            "problem": account.problem,
            "sandboxMode": permissions.sandbox_mode,
            "approvalPolicy": policy if policy is None or isinstance(policy, str) else policy.model_dump(),
        },
        "warnings": list(settings.config_warnings),
    }


def _text(data: dict[str, Any]) -> str:
    lines = [f"codex home: {data['codexHome']}", "layers: " + ", ".join(data["layers"]), ""]
    for row in data["settings"]:
        lines.append(f"{row['key']} = {json.dumps(row['value'], ensure_ascii=False)}    # {row['from']}")
    resolved = data["resolved"]
    lines += ["", "resolved:"]
    lines += [
        f"  {name}: {value if isinstance(value, str) else json.dumps(value)}"
        for name, value in resolved.items()
        if value is not None
    ]
    lines += [f"warning: {warning}" for warning in data["warnings"]]
    return "\n".join(lines) + "\n"


def run_config(request: ConfigRequest, *, as_json: bool = False, out: TextIO | None = None) -> int:
    """Print the report; 1 with the error when the configuration cannot be read."""
    try:
        data = report(request)
    except (ConfigError, AuthError) as exc:
        sys.stderr.write(f"codex-lsp config: {exc.message}\n")
        return 1
    (out or sys.stdout).write(json.dumps(data, indent=2) + "\n" if as_json else _text(data))
    return 0
