"""The pure parts of the boundary and of the base-URL rule: ``file:`` URIs to paths, folder containment,
Codex's trusted projects, and when an editor's base URL is another endpoint than the configured one."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from codex_lsp.lsp.host.base_url import endpoint, redirect_of
from codex_lsp.lsp.host.boundary import contains, innermost, trusted_projects
from codex_lsp.lsp.uris import BadUri, file_path, real_path
from codex_lsp.model import ModelSettings, ProviderConfig

# -- file: URIs --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "path"),
    [
        ("file:///ws/a.py", "/ws/a.py"),
        ("file://localhost/ws/a.py", "/ws/a.py"),
        ("FILE:///ws/a%20b.py", "/ws/a b.py"),
        ("file:///ws/caf%C3%A9.py", "/ws/café.py"),
        ("file:///ws/a;b.py", "/ws/a;b.py"),  # pygls' urlparse cuts this at ";"
        ("file:///ws/%2e%2e/out", "/ws/../out"),  # decoded here, resolved by real_path
        ("untitled:Untitled-1", None),
        ("https://example.com/a.py", None),
    ],
)
def test_file_uris_name_these_paths(uri: str, path: str | None) -> None:
    assert file_path(uri) == path


@pytest.mark.parametrize(
    ("uri", "why"),
    [
        ("file:///ws/a%00b.py", "NUL"),
        ("file:///ws/a\x00b.py", "NUL"),
        ("file:///ws/caf%E9.py", "not UTF-8"),
        ("file://server/share/a.py", "another host"),
        ("file:relative/a.py", "absolute"),
        ("file:", "absolute"),
        ("file:///ws/a.py?x=1", "query"),
        ("file:///ws/a.py#L3", "fragment"),
    ],
)
def test_file_uris_that_name_no_usable_path_are_refused_with_the_reason(uri: str, why: str) -> None:
    with pytest.raises(BadUri, match=why):
        file_path(uri)


def test_real_path_resolves_dot_dot_and_links_once(tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "ws" / "link").symlink_to(tmp_path / "out")
    real = str((tmp_path / "out" / "x").resolve())
    root = (tmp_path / "ws").as_uri()
    assert real_path(f"{root}/../out/x") == real
    assert real_path(f"{root}/%2E%2E/out/x") == real
    assert real_path(f"{root}/link/x") == real


# -- folders -----------------------------------------------------------------------------------------


def test_containment_is_by_whole_path_components() -> None:
    ws = Path("/home/me/ws")
    assert contains(ws, ws)
    assert contains(ws, Path("/home/me/ws/pkg/a.py"))
    assert not contains(ws, Path("/home/me/ws-evil/a.py"))
    assert not contains(ws, Path("/home/me/wsx"))
    assert not contains(ws, Path("/home/me"))
    assert innermost([Path("/a"), Path("/a/b"), Path("/c")], Path("/a/b/c.py")) == Path("/a/b")
    assert innermost([Path("/a/b")], Path("/a/bc/d.py")) is None


def test_trusted_projects_are_codex_trusted_absolute_paths_only(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    projects = {
        str(tmp_path / "link"): {"trust_level": "trusted"},
        str(tmp_path / "other"): {"trust_level": "untrusted"},
        "relative/dir": {"trust_level": "trusted"},
        str(tmp_path / "odd"): "trusted",
    }
    assert trusted_projects(projects) == ((tmp_path / "real").resolve(),)
    assert trusted_projects(None) == ()
    assert trusted_projects(["/x"]) == ()


# -- base URLs ---------------------------------------------------------------------------------------


def test_endpoints_compare_where_requests_go() -> None:
    same = endpoint("https://api.example.com/v1")
    assert same is not None
    for spelling in (
        "https://API.example.com/v1/",
        "https://api.example.com:443/v1",
        "wss://api.example.com/v1",
    ):
        assert endpoint(spelling) == same, spelling
    for other in (
        "http://api.example.com/v1",
        "https://api.example.com.evil.test/v1",
        "https://api.example.com:8443/v1",
        "https://api.example.com/v2",
    ):
        assert endpoint(other) != same, other
    for ambiguous in (
        "https://evil.test\\@api.example.com/v1",
        "https://user@api.example.com/v1",
        "https://h:x/v1",
    ):
        assert endpoint(ambiguous) is None, ambiguous


def configured(**fields: object) -> ModelSettings:
    provider = ProviderConfig(base_url="https://api.example.com/v1")
    return ModelSettings(provider_id="corp", provider=provider, **fields)  # type: ignore[arg-type]


def test_a_redirect_is_another_endpoint_for_a_provider_with_something_to_withhold() -> None:
    keyed = configured(api_key=SecretStr("sk-x"), key_source="env CORP_KEY")
    assert redirect_of(keyed, None, {}) is None
    assert redirect_of(keyed, "https://api.example.com/v1/", {}) is None
    assert redirect_of(configured(), "https://elsewhere.test/v1", {}) is None, "nothing to withhold"
    redirect = redirect_of(keyed, "http://127.0.0.1:8080/v1", {})
    assert redirect is not None, "loopback gets no exemption"
    assert redirect.key == ("corp", "http://127.0.0.1:8080/v1")
    assert "your API key (env CORP_KEY)" in redirect.question()
    assert "https://api.example.com/v1" in redirect.refusal()
    assert redirect_of(keyed, "https://user@api.example.com/v1", {}) is not None
