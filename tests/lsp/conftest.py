"""Fixtures of the end-to-end LSP tests: one fake model server per module, and one language server
per module and capability profile (tests in a module share it, each with its own files)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from codex_lsp.testing import FakeResponsesServer
from tests.lsp.harness import PROFILES, Editor, Profile, editor_session


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def fake() -> AsyncIterator[FakeResponsesServer]:
    async with FakeResponsesServer() as server:
        yield server


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=PROFILES)
async def editor(
    request: pytest.FixtureRequest, fake: FakeResponsesServer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Editor]:
    profile: Profile = request.param
    async with editor_session(tmp_path_factory.mktemp(profile), fake, profile) as session:
        yield session


@pytest.fixture
def ed(editor: Editor) -> Editor:
    """The module's editor, reset to its defaults for this test."""
    editor.apply_mode = "apply"
    editor.raw_answer = None
    editor.release = asyncio.Event()
    editor.edit_arrived = asyncio.Event()
    editor.answer = "Approve"
    editor.question_release = asyncio.Event()
    editor.drop_annotations = set()
    editor.drop_edits = set()
    return editor
