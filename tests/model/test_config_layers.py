"""Codex's configuration layers: user → profile → trusted project (root down to the folder) → ``-c`` → flags.

Unit tests pin each rule; the differential tests run the pinned Codex 0.169 and ``codex-lsp exec`` on the
same layered ``$CODEX_HOME`` and folder and compare what reaches the model (``reasoning``, ``text``), the
warnings for unknown keys, and the errors for settings Codex removed.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from codex_lsp.model import ConfigError, ConfigRequest, load_settings
from codex_lsp.model.layers import KNOWN_KEYS, load_layers, parse_override
from codex_lsp.testing import FakeResponsesServer, Script, make_codex_home
from tests.agent.exec_process import ours_exec
from tests.model.codex_peer import codex_exec, needs_codex

REPO = Path(__file__).resolve().parents[2]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def trust(home: Path, folder: Path) -> None:
    config = home / "config.toml"
    old = config.read_text() if config.exists() else ""
    write(config, old + f'\n[projects."{folder}"]\ntrust_level = "trusted"\n')


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository with a subfolder, each with a project config."""
    root = tmp_path / "repo"
    (root / "sub").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    write(root / ".codex" / "config.toml", 'model_reasoning_effort = "high"\nmodel_verbosity = "high"\n')
    write(root / "sub" / ".codex" / "config.toml", 'model_reasoning_effort = "low"\n')
    return root


# -- precedence ------------------------------------------------------------------------------------------


def test_each_layer_wins_over_the_one_before_and_says_where_a_value_came_from(
    tmp_path: Path, repo: Path
) -> None:
    home = tmp_path / "home"
    write(home / "config.toml", 'model = "from-user"\nmodel_verbosity = "low"\nservice_tier = "flex"\n')
    write(home / "deep.config.toml", 'model = "from-profile"\nmodel_reasoning_summary = "detailed"\n')
    trust(home, repo)
    layered = load_layers(
        home,
        profile="deep",
        cwd=repo / "sub",
        overrides=['model_reasoning_summary="concise"'],
        flags={"model": "from-flag", "service_tier": None},
    )
    merged = layered.merged
    assert merged["model"] == "from-flag"
    assert merged["model_reasoning_effort"] == "low", (
        "the folder's own project file, last of the project layers"
    )
    assert merged["model_verbosity"] == "high", "the repository root's project file over the user's"
    assert merged["model_reasoning_summary"] == "concise"
    assert merged["service_tier"] == "flex", "a flag not given changes nothing"
    assert layered.origin("model") == "flag (model)"
    assert layered.origin("model_reasoning_effort") == f"project ({repo / 'sub' / '.codex' / 'config.toml'})"
    assert layered.origin("model_verbosity") == f"project ({repo / '.codex' / 'config.toml'})"
    assert layered.origin("model_reasoning_summary") == 'override (-c model_reasoning_summary="concise")'
    assert layered.origin("service_tier") == f"user ({home / 'config.toml'})"
    assert layered.origin("no_such_key") == "default"


def test_tables_merge_key_by_key(tmp_path: Path) -> None:
    home = tmp_path / "home"
    write(
        home / "config.toml",
        '[model_providers.p]\nbase_url = "http://a/v1"\nhttp_headers = { "x-one" = "1" }\n',
    )
    layered = load_layers(home, overrides=['model_providers.p.http_headers.x-two="2"'])
    provider = layered.merged["model_providers"]["p"]
    assert provider == {"base_url": "http://a/v1", "http_headers": {"x-one": "1", "x-two": "2"}}


def test_a_missing_profile_file_adds_nothing(tmp_path: Path) -> None:
    """As Codex: ``--profile nope`` without ``nope.config.toml`` runs on the other layers."""
    home = tmp_path / "home"
    write(home / "config.toml", 'model = "m"\n')
    assert load_layers(home, profile="nope").merged == {"model": "m"}


# -- trust -----------------------------------------------------------------------------------------------


def test_an_untrusted_projects_file_is_not_read_and_the_user_is_told(tmp_path: Path, repo: Path) -> None:
    home = tmp_path / "home"
    write(home / "config.toml", 'model = "m"\n')
    layered = load_layers(home, cwd=repo / "sub")
    assert "model_reasoning_effort" not in layered.merged
    assert len(layered.warnings) == 2, layered.warnings
    assert all("Untrusted project-local configuration is disabled" in w for w in layered.warnings)


def test_trusting_a_subfolder_reads_only_its_own_file(tmp_path: Path, repo: Path) -> None:
    """Codex 0.169, checked: the trusted folder's file applies, the untrusted root's does not."""
    home = tmp_path / "home"
    write(home / "config.toml", "")
    trust(home, repo / "sub")
    layered = load_layers(home, cwd=repo / "sub")
    assert layered.merged == {
        "projects": {str(repo / "sub"): {"trust_level": "trusted"}},
        "model_reasoning_effort": "low",
    }
    assert [w for w in layered.warnings if str(repo / ".codex") in w]


def test_a_project_is_trusted_by_its_real_path(tmp_path: Path, repo: Path) -> None:
    home = tmp_path / "home"
    link = tmp_path / "link-to-repo"
    link.symlink_to(repo)
    trust(home, link)
    assert load_layers(home, cwd=repo).merged["model_reasoning_effort"] == "high"


# -- -c ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('model="o3"', {"model": "o3"}),
        ("model_reasoning_effort=high", {"model_reasoning_effort": "high"}),
        ("model_reasoning_effort = high ", {"model_reasoning_effort": "high"}),
        ("project_doc_max_bytes=1000", {"project_doc_max_bytes": 1000}),
        ('project_doc_fallback_filenames=["CLAUDE.md"]', {"project_doc_fallback_filenames": ["CLAUDE.md"]}),
        ("shell_environment_policy.inherit=all", {"shell_environment_policy": {"inherit": "all"}}),
        ("tools.web_search=true", {"tools": {"web_search": True}}),
        ('a.b.c = "spaced"', {"a": {"b": {"c": "spaced"}}}),
        ("key=", {"key": ""}),
    ],
)
def test_overrides_are_dotted_keys_with_toml_values_else_raw_text(
    text: str, expected: dict[str, Any]
) -> None:
    assert parse_override(text) == expected


@pytest.mark.parametrize("text", ["model", "=x", "a..b=1", " =1"])
def test_a_malformed_override_is_a_clear_error(text: str) -> None:
    with pytest.raises(ConfigError, match="expected key=value"):
        parse_override(text)


def test_a_bad_value_names_the_layer_it_came_from(tmp_path: Path) -> None:
    home = tmp_path / "home"
    write(home / "config.toml", 'model = "m"\n')
    write(home / "deep.config.toml", 'model_reasoning_effort = "extreme"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(home, {}, request=ConfigRequest(profile="deep"))
    assert f"model_reasoning_effort (profile ({home / 'deep.config.toml'}))" in caught.value.message
    assert caught.value.path == home / "deep.config.toml"
    with pytest.raises(ConfigError, match=r"override \(-c model_verbosity=loud\)"):
        load_settings(home, {}, request=ConfigRequest(overrides=("model_verbosity=loud",)))


# -- removed and unknown settings --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            'profile = "x"\n',
            'legacy `profile = "x"` config is no longer supported; use `--profile x` with `x.config.toml` '
            "instead",
        ),
        (
            '[model_providers.p]\nbase_url = "http://a/v1"\nwire_api = "chat"\n',
            '`wire_api = "chat"` is no longer supported.',
        ),
        (
            '[model_providers.ollama]\nbase_url = "http://a/v1"\n',
            "model_providers contains reserved built-in provider IDs: `ollama`. Built-in providers cannot be "
            "overridden. Rename your custom provider (for example, `openai-custom`).",
        ),
    ],
    ids=["legacy-profile", "wire-api-chat", "reserved-provider"],
)
def test_settings_codex_removed_are_refused_in_its_words(tmp_path: Path, config: str, message: str) -> None:
    home = tmp_path / "home"
    write(home / "config.toml", config)
    with pytest.raises(ConfigError) as caught:
        load_settings(home, {})
    assert caught.value.message.startswith(message)
    assert str(home / "config.toml") in caught.value.message


def test_unknown_keys_are_reported_once_each_with_their_file(tmp_path: Path) -> None:
    home = tmp_path / "home"
    write(home / "config.toml", 'model = "gpt-5.5"\nmodel_max_output_tokens = 5\nbogus = 1\n')
    write(home / "p.config.toml", "other_bogus = true\n")
    (warning,) = load_settings(home, {}, request=ConfigRequest(profile="p")).config_warnings
    assert warning.splitlines() == [
        "Codex is ignoring 3 unrecognized configuration settings. Check for typos or deprecated settings.",
        f"  user ({home / 'config.toml'}): `bogus` is ignored.",
        f"  user ({home / 'config.toml'}): `model_max_output_tokens` is ignored.",
        f"  profile ({home / 'p.config.toml'}): `other_bogus` is ignored.",
    ]


# -- against the pinned Codex --------------------------------------------------------------------------------


EVERY_KNOWN_KEY = """model = "gpt-5.5"
review_model = "gpt-5.5"
model_context_window = 200000
model_auto_compact_token_limit = 150000
model_auto_compact_token_limit_scope = "total"
model_reasoning_effort = "medium"
model_reasoning_summary = "auto"
model_verbosity = "low"
developer_instructions = "be brief"
instructions = "x"
model_instructions_file = "{instructions}"
compact_prompt = "summarize"
experimental_compact_prompt_file = "{instructions}"
approval_policy = "never"
approvals_reviewer = "user"
sandbox_mode = "read-only"
service_tier = "flex"
web_search = "disabled"
project_doc_max_bytes = 1000
project_doc_fallback_filenames = ["CLAUDE.md"]
project_root_markers = [".git"]
openai_base_url = "http://127.0.0.1:9/v1"
chatgpt_base_url = "http://127.0.0.1:9/backend-api/"
forced_login_method = "api"
forced_chatgpt_workspace_id = "acct-x"
cli_auth_credentials_store = "file"
oss_provider = "ollama"
notify = ["true"]
hide_agent_reasoning = false
show_raw_agent_reasoning = false
file_opener = "none"
disable_paste_burst = true
personality = "pragmatic"
model_max_output_tokens = 5
bogus_one = 1
[sandbox_workspace_write]
network_access = false
[shell_environment_policy]
inherit = "all"
[tools]
web_search = false
[history]
persistence = "none"
[tui]
notifications = false
[profiles.x]
model = "gpt-5.5"
[mcp_servers]
[otel]
[skills]
[hooks]
"""


def _ignored(text: str) -> set[str]:
    import re

    return set(re.findall(r": `([^`]+)` is ignored\.", text))


@needs_codex
async def test_codex_knows_every_key_we_call_known_and_warns_about_the_same_unknown_ones(
    tmp_path: Path,
) -> None:
    """One config.toml with every key of KNOWN_KEYS that can stand alone (valid values) and two unknown
    ones: Codex and we name the same ignored keys."""
    fake = FakeResponsesServer(
        Script.model_validate({"turns": [{"requests": [{"output": [{"type": "message", "text": "ok"}]}]}]})
    )
    await fake.start()
    try:
        home = make_codex_home(tmp_path, fake.base_url, websockets=False)
        instructions = write(tmp_path / "instructions.md", "be brief")
        body = EVERY_KNOWN_KEY.format(instructions=instructions)
        config = (home / "config.toml").read_text()
        head, _, rest = config.partition("[model_providers.fake]")
        write(
            home / "config.toml",
            head.replace('model = "gpt-5.5"\n', "") + body + "\n[model_providers.fake]" + rest,
        )
        ws = tmp_path / "ws"
        ws.mkdir()
        code, events, err = await codex_exec(home, ws, "say hi")
        assert code == 0, err
        theirs = _ignored(err + json.dumps(events))
        (warning,) = load_settings(home, {"FAKE_KEY": "k"}).config_warnings
        assert _ignored(warning) == theirs == {"bogus_one", "model_max_output_tokens"}
    finally:
        await fake.stop()
    top_level = body.split("\n[", 1)[0]
    written = {line.split(" ")[0] for line in top_level.splitlines() if " = " in line}
    tables = {line.strip("[]").split(".")[0] for line in body.splitlines() if line.startswith("[")}
    assert (written | tables) - {"bogus_one", "model_max_output_tokens"} <= KNOWN_KEYS


@needs_codex
async def test_profile_project_and_overrides_reach_the_model_as_codexs_do(tmp_path: Path, repo: Path) -> None:
    """The same layers for both (user: effort low; profile: verbosity high; trusted repo root: effort
    high; its subfolder: summary concise; -c: verbosity medium), run in the subfolder: the first request
    carries the same ``reasoning`` and ``text``."""
    write(repo / "sub" / ".codex" / "config.toml", 'model_reasoning_summary = "concise"\n')
    bodies: list[dict[str, Any]] = []
    for peer in ("codex", "ours"):
        fake = FakeResponsesServer(
            Script.model_validate(
                {"turns": [{"requests": [{"output": [{"type": "message", "text": "ok"}]}]}]}
            )
        )
        await fake.start()
        try:
            root = tmp_path / peer
            root.mkdir()
            home = make_codex_home(
                root, fake.base_url, websockets=False, top='model_reasoning_effort = "low"'
            )
            write(home / "deep.config.toml", 'model_verbosity = "high"\n')
            trust(home, repo)
            args = ("--profile", "deep", "-c", 'model_verbosity="medium"')
            if peer == "codex":
                code, _, err = await codex_exec(home, repo / "sub", "say hi", args=args)
            else:
                done = await ours_exec(home, repo / "sub", "say hi", *args, json_events=False)
                code, err = done.code, done.stdout + done.stderr
            assert code == 0, err
            (request,) = fake.generating_requests()
            bodies.append({k: request.body[k] for k in ("reasoning", "text")})
        finally:
            await fake.stop()
    assert bodies[1] == bodies[0]
    assert bodies[0]["reasoning"]["effort"] == "high"
    assert bodies[0]["text"] == {"verbosity": "medium"}
