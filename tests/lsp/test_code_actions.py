"""Code actions: instant, built from the request's context and the diagnostics store (both offered; what
the store keeps goes with a change or a close, and a late report of an older text is not kept);
per-diagnostic fixes, fix-all, selection actions, the explicitly-invoked fallback, and never
``source.fixAll``."""

from __future__ import annotations

from typing import Any

import pytest
from lsprotocol import types
from lsprotocol.converters import get_converter
from pygls.exceptions import JsonRpcException

from codex_lsp.lsp.capabilities import ClientCaps
from codex_lsp.lsp.features.code_actions import build_actions
from codex_lsp.testing import FakeResponsesServer
from tests.lsp.harness import Editor, load, say, user_texts

pytestmark = [
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning"),
]

TEXT = "".join(f"x{n} = undefined_{n}\n" for n in range(40))


def problem(line: int, message: str | None = None, source: str = "pyright") -> types.Diagnostic:
    return types.Diagnostic(
        range=types.Range(types.Position(line, 5), types.Position(line, 16)),
        message=message or f'"undefined_{line}" is not defined',
        source=source,
    )


def at(line: int, start: int = 6, end: int | None = None) -> types.Range:
    return types.Range(types.Position(line, start), types.Position(line, start if end is None else end))


async def actions(
    ed: Editor,
    uri: str,
    rng: types.Range,
    diagnostics: list[types.Diagnostic] = (),  # type: ignore[assignment]
    *,
    trigger: types.CodeActionTriggerKind | None = types.CodeActionTriggerKind.Invoked,
    only: list[str] | None = None,
) -> list[Any]:
    context = types.CodeActionContext(diagnostics=list(diagnostics), trigger_kind=trigger, only=only)
    params = types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri), range=rng, context=context
    )
    return list(await ed.client.text_document_code_action_async(params) or [])


def titles(found: list[Any]) -> list[str]:
    return [a.title for a in found]


def commands(found: list[Any]) -> list[Any]:
    return [a if isinstance(a, types.Command) else a.command for a in found]


def span(start: tuple[int, int], end: tuple[int, int]) -> dict[str, Any]:
    """A range as it travels in a command's arguments."""
    return {
        "start": {"line": start[0], "character": start[1]},
        "end": {"line": end[0], "character": end[1]},
    }


async def run(ed: Editor, fake: FakeResponsesServer, action: Any) -> str:
    """Pick ``action`` as the user would (its command runs a turn) and return what the model was asked."""
    command = commands([action])[0]
    load(fake, [say("Done.")])
    result = await ed.client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command.command, arguments=command.arguments)
    )
    assert result is not None
    assert result["status"] == "completed", result
    return user_texts(fake)[-1]


async def test_many_diagnostics(ed: Editor) -> None:
    uri = ed.write("many.py", TEXT)
    ed.open("many.py")
    everything = [problem(n) for n in range(40)]
    ed.client.protocol.notify(
        "codex/didChangeDiagnostics",
        {"uri": uri, "version": 1, "diagnostics": [get_converter().unstructure(d) for d in everything]},
    )
    here = [problem(3), problem(3, "Line too long", source="ruff")]
    found = await actions(ed, uri, at(3), here)
    assert titles(found) == [
        'Fix with Codex: "undefined_3" is not defined',
        "Fix with Codex: Line too long",
        "Fix all 41 problems in this file with Codex",
    ]
    fix_one, _, fix_all = commands(found)
    assert fix_one.command == "codex.fixDiagnostics"
    (arguments,) = fix_one.arguments or []
    assert arguments["uri"] == uri
    assert arguments["version"] == 1
    assert [d["message"] for d in arguments["diagnostics"]] == ['"undefined_3" is not defined']
    assert (fix_all.arguments or [])[0] == {"uri": uri, "version": 1, "all": True}
    if ed.profile == "minimal":
        assert all(isinstance(a, types.Command) for a in found), "no code-action literals: commands"
    else:
        assert {a.kind for a in found} == {types.CodeActionKind.QuickFix}
        assert list(found[0].diagnostics) == [here[0]]


async def test_selection_actions(ed: Editor) -> None:
    uri = ed.write("selection.py", TEXT)
    ed.open("selection.py")
    invoked = await actions(ed, uri, at(1, 0, 9), [])
    assert titles(invoked)[0] == "Codex: fix the problems on this line"  # the selection is within it
    found = await actions(ed, uri, at(1, 0, 9), [], trigger=types.CodeActionTriggerKind.Automatic)
    assert titles(found) == [
        "Codex: explain this code",
        "Codex: add docstrings",
        "Codex: write tests for this code",
    ]
    assert [c.command for c in commands(found)] == ["codex.ask"] * 3
    assert [list(c.arguments or []) for c in commands(found)] == [
        [{"prompt": prompt, "uri": uri, "version": 1, "range": span((1, 0), (1, 9))}]
        for prompt in (
            "Explain what the selected code does.",
            "Add docstrings to the selected code.",
            "Write tests for the selected code.",
        )
    ]
    if ed.profile != "minimal":
        assert {a.kind for a in found} == {types.CodeActionKind.RefactorRewrite}


async def test_a_selection_action_asks_the_model_about_the_selection(
    ed: Editor, fake: FakeResponsesServer
) -> None:
    uri = ed.write("explain.py", TEXT)
    ed.open("explain.py")
    selected = types.Range(types.Position(3, 4), types.Position(2, 5))  # made backwards: the same span
    found = await actions(ed, uri, selected, [], trigger=types.CodeActionTriggerKind.Automatic)
    asked = await run(ed, fake, found[0])
    assert "Explain what the selected code does." in asked
    assert "Selection in explain.py from 3:6 to 4:5 (line:column, 1-based):" in asked
    assert "undefined_2\nx3 =" in asked, "the selected text"


async def test_only_filters_and_never_fix_all_on_save(ed: Editor) -> None:
    uri = ed.write("only.py", TEXT)
    ed.open("only.py")
    here = [problem(2)]
    assert titles(await actions(ed, uri, at(2, 0, 4), here, only=["refactor"])) == [
        "Codex: explain this code",
        "Codex: add docstrings",
        "Codex: write tests for this code",
    ]
    assert titles(await actions(ed, uri, at(2, 0, 4), here, only=["quickfix"])) == [
        'Fix with Codex: "undefined_2" is not defined'
    ]
    assert await actions(ed, uri, at(2), here, only=["source.fixAll"]) == []
    assert await actions(ed, uri, at(2), here, only=["source"]) == []


async def test_the_fallback_only_when_invoked(ed: Editor) -> None:
    uri = ed.write("fallback.py", "x = 1\ny = 2\n")
    ed.open("fallback.py")
    automatic = await actions(ed, uri, at(0), [], trigger=types.CodeActionTriggerKind.Automatic)
    assert automatic == []
    (fallback,) = await actions(ed, uri, at(0), [])
    assert fallback.title == "Codex: fix the problems on this line"
    (arguments,) = commands([fallback])[0].arguments or []
    assert "line 1" in arguments["prompt"]


async def test_the_fallback_asks_the_model_about_the_whole_line(
    ed: Editor, fake: FakeResponsesServer
) -> None:
    """The editor's diagnostics did not reach the server: the model is told which line and shown all
    of it, from its start to the next line's, whatever part of it the request's range covered."""
    uri = ed.write("whole-line.py", "x = 1\ny = undefined\nz = 3\n")
    ed.open("whole-line.py")
    (fallback,) = await actions(ed, uri, at(1, 4, 7), [], only=["quickfix"])
    prompt = (
        "Fix the problems on line 2 of this file (the diagnostics the editor shows there did not reach "
        "the language server; check the line yourself)."
    )
    command = commands([fallback])[0]
    assert (command.title, command.command) == ("Codex: fix the problems on this line", "codex.ask")
    assert list(command.arguments or []) == [
        {"prompt": prompt, "uri": uri, "version": 1, "range": span((1, 0), (2, 0))}
    ]
    asked = await run(ed, fake, fallback)
    assert prompt in asked
    assert "Selection in whole-line.py from 2:1 to 3:1 (line:column, 1-based):" in asked
    assert "y = undefined\n" in asked


async def test_no_trigger_kind_counts_as_invoked(ed: Editor) -> None:
    """ALE, lsp-mode 8.0 and CodeMirror's client send no ``triggerKind`` (the field is optional) and
    only ask when the user does."""
    uri = ed.write("untriggered.py", "x = 1\ny = 2\n")
    ed.open("untriggered.py")
    (fallback,) = await actions(ed, uri, at(1), [], trigger=None)
    assert fallback.title == "Codex: fix the problems on this line"
    (arguments,) = commands([fallback])[0].arguments or []
    assert "line 2" in arguments["prompt"]


@pytest.mark.parametrize(
    ("start", "end", "fallback"),
    [
        ((1, 0), (1, 5), True),  # the line's text: lsp-mode without a region
        ((1, 0), (2, 0), True),  # the whole line, newline included
        ((1, 2), (1, 3), True),  # a word
        ((1, 5), (1, 0), True),  # the same line, ends swapped
        ((2, 0), (1, 0), True),  # the whole line, ends swapped
        ((0, 0), (2, 0), False),  # two lines: a selection
        ((1, 0), (2, 1), False),
    ],
)
async def test_a_range_within_one_line_still_gets_the_fallback(
    ed: Editor, start: tuple[int, int], end: tuple[int, int], fallback: bool
) -> None:
    """Clients that always send a non-empty range (the cursor's line or word) still get the line's
    fallback; only a range over several lines is a selection without it."""
    uri = ed.write("ranges.py", "x = 1\ny = 2\nz = 3\n")
    ed.open("ranges.py")
    rng = types.Range(types.Position(*start), types.Position(*end))
    found = titles(await actions(ed, uri, rng, [], trigger=None))
    assert ("Codex: fix the problems on this line" in found) == fallback, found
    if fallback:
        (line,) = [a for a in await actions(ed, uri, rng, []) if a.title.endswith("this line")]
        (arguments,) = commands([line])[0].arguments or []
        assert "line 2" in arguments["prompt"]


async def test_an_inverted_diagnostic_range_is_kept(ed: Editor) -> None:
    """ALE sends a flake8 diagnostic without an end column with its end at 0:0, before its start:
    kept, as the place where the problem starts."""
    uri = ed.write("inverted.py", TEXT)
    ed.open("inverted.py")
    inverted = types.Diagnostic(
        range=types.Range(types.Position(4, 3), types.Position(0, 0)), message="E225 missing whitespace"
    )
    found = await actions(ed, uri, at(4, 3, 4), [inverted], trigger=None)
    assert titles(found)[0] == "Fix with Codex: E225 missing whitespace"
    (arguments,) = commands(found)[0].arguments or []
    assert arguments["diagnostics"][0]["range"] == {
        "start": {"line": 4, "character": 3},
        "end": {"line": 4, "character": 3},
    }
    backwards = types.Range(types.Position(4, 8), types.Position(4, 1))  # a selection made backwards
    found = await actions(ed, uri, backwards, [inverted])
    assert titles(found)[0] == "Fix with Codex: E225 missing whitespace"
    assert "Codex: fix the problems on this line" not in titles(found)


async def test_diagnostics_are_dropped_when_the_document_changes(ed: Editor) -> None:
    uri = ed.write("moved.py", TEXT)
    ed.open("moved.py")
    ed.client.protocol.notify(
        "codex/didChangeDiagnostics",
        {"uri": uri, "version": 1, "diagnostics": [get_converter().unstructure(problem(5))]},
    )
    assert "Fix with Codex" in titles(await actions(ed, uri, at(5)))[0]
    ed.type_text("moved.py", "# edited\n" + TEXT)
    with pytest.raises(JsonRpcException, match="no diagnostics are known"):
        await ed.execute("codex.fixDiagnostics", {"uri": uri, "version": 2, "all": True})
    assert not any("Fix with Codex" in t for t in titles(await actions(ed, uri, at(5))))


async def test_llm_generated_tag_where_supported() -> None:
    params = types.CodeActionParams(
        text_document=types.TextDocumentIdentifier("file:///a.py"),
        range=at(3),
        context=types.CodeActionContext(diagnostics=[]),
    )
    tagged = build_actions(
        ClientCaps(code_action_literals=True, llm_tag=True), params, 1, [problem(3)], 1, True
    )
    plain = build_actions(ClientCaps(code_action_literals=True), params, 1, [problem(3)], 1, True)
    assert [getattr(a, "tags", "?") for a in tagged] == [[types.CodeActionTag.LlmGenerated]]
    assert [getattr(a, "tags", "?") for a in plain] == [None]


async def test_resolve_is_offered_only_to_clients_whose_actions_need_it(ed: Editor) -> None:
    """Every profile here applies edits and runs commands: a ``codeAction/resolve`` would be wasted."""
    assert ed.init_result is not None
    provider = ed.init_result.capabilities.code_action_provider
    assert isinstance(provider, types.CodeActionOptions)
    assert not provider.resolve_provider


async def test_every_diagnostic_the_client_sends_is_offered(ed: Editor) -> None:
    """lsp-mode sends the whole line's diagnostics with a cursor at the line's start: the client says
    they apply here, so each gets its fix even where it does not overlap the cursor."""
    uri = ed.write("context.py", TEXT)
    ed.open("context.py")
    found = await actions(ed, uri, at(6, 0), [problem(6)], trigger=None)
    assert titles(found)[0] == 'Fix with Codex: "undefined_6" is not defined'
    assert "Codex: fix the problems on this line" not in titles(found)


def report(ed: Editor, uri: str, version: int | None, diagnostics: list[types.Diagnostic]) -> None:
    """What an editor plugin sends: every source's diagnostics for the document at ``version``."""
    unstructured = [get_converter().unstructure(d) for d in diagnostics]
    ed.client.protocol.notify(
        "codex/didChangeDiagnostics", {"uri": uri, "version": version, "diagnostics": unstructured}
    )


def fixes(found: list[Any]) -> list[str]:
    return [t for t in titles(found) if t.startswith("Fix")]


async def test_diagnostics_are_dropped_when_the_document_closes(ed: Editor) -> None:
    """Reopened, a document starts again at version 1: the problems reported for the text before the
    close are not its problems (the plugin reports the new text's)."""
    uri = ed.write("closed.py", TEXT)
    ed.open("closed.py")
    report(ed, uri, 1, [problem(3), problem(5), problem(7)])
    assert fixes(await actions(ed, uri, at(5))) == [
        'Fix with Codex: "undefined_5" is not defined',
        "Fix all 3 problems in this file with Codex",
    ]
    ed.close(uri)
    ed.open("closed.py", TEXT)
    assert fixes(await actions(ed, uri, at(5))) == []
    with pytest.raises(JsonRpcException, match="no diagnostics are known"):
        await ed.execute("codex.fixDiagnostics", {"uri": uri, "version": 1, "all": True})


async def test_a_report_arriving_after_the_close_is_not_kept(ed: Editor) -> None:
    """The plugin's last report of a document may reach the server after its ``didClose`` (Neovim's is
    debounced): it describes a text the server no longer holds, and the reopened document (version 1
    again) must not get fixes from it."""
    uri = ed.write("late-close.py", TEXT)
    ed.open("late-close.py")
    ed.close(uri)
    report(ed, uri, 1, [problem(3), problem(5), problem(7)])
    ed.open("late-close.py", TEXT)
    assert fixes(await actions(ed, uri, at(5))) == []
    with pytest.raises(JsonRpcException, match="no diagnostics are known"):
        await ed.execute("codex.fixDiagnostics", {"uri": uri, "version": 1, "all": True})


async def test_a_report_for_an_older_version_is_not_filed_under_the_current_one(ed: Editor) -> None:
    """The plugin's report of the text before the user's last change arrives after the change: its
    positions describe a text that is gone, so it offers no fix and counts in no "Fix all" — nor
    does it replace what was reported for the current text."""
    uri = ed.write("late.py", TEXT)
    ed.open("late.py")
    ed.type_text("late.py", "# edited\n" + TEXT)  # version 2: every line moved down by one
    report(ed, uri, 1, [problem(3), problem(5), problem(7)])
    assert fixes(await actions(ed, uri, at(3))) == []
    assert fixes(await actions(ed, uri, at(5))) == []
    with pytest.raises(JsonRpcException, match="no diagnostics are known"):
        await ed.execute("codex.fixDiagnostics", {"uri": uri, "version": 2, "all": True})
    report(
        ed, uri, 2, [problem(4, '"undefined_3" is not defined'), problem(8, '"undefined_7" is not defined')]
    )
    report(ed, uri, 1, [problem(3), problem(5), problem(7)])  # late again
    assert fixes(await actions(ed, uri, at(4))) == [
        'Fix with Codex: "undefined_3" is not defined',
        "Fix all 2 problems in this file with Codex",
    ]
    assert fixes(await actions(ed, uri, at(5))) == ["Fix all 2 problems in this file with Codex"]


async def test_a_report_without_a_version_is_for_the_current_text(ed: Editor) -> None:
    """The version is optional: a plugin that sends none reports the text as it is now."""
    uri = ed.write("unversioned.py", TEXT)
    ed.open("unversioned.py")
    ed.type_text("unversioned.py", "# edited\n" + TEXT)
    report(ed, uri, None, [problem(4, '"undefined_3" is not defined')])
    assert fixes(await actions(ed, uri, at(4))) == ['Fix with Codex: "undefined_3" is not defined']


async def test_the_stores_diagnostics_and_the_contexts_are_all_offered(ed: Editor) -> None:
    """On ``x9 = undefined_9``, the cursor in the name: the client's request carries its own linter's
    diagnostic there and one on the same line the cursor does not touch (lsp-mode sends the line's);
    the plugin reported another source's there that the request does not carry (Neovim sends each
    server only its own). Each is offered once, in document order, and "Fix all" counts every one."""
    uri = ed.write("both.py", TEXT)
    ed.open("both.py")
    from_plugin = problem(9, "Undefined name `undefined_9`", source="ruff")
    report(ed, uri, 1, [from_plugin, problem(20)])
    from_client = problem(9, '"undefined_9" is not defined', source="Pyright")
    unused = types.Diagnostic(
        range=types.Range(types.Position(9, 0), types.Position(9, 2)),
        message='Variable "x9" is not accessed',
        source="Pyright",
    )
    found = await actions(ed, uri, at(9, 12), [from_client, unused], trigger=None)
    first, *same_place, fix_all = fixes(found)
    assert first == 'Fix with Codex: Variable "x9" is not accessed'  # first in the file, last in the request
    assert sorted(same_place) == [
        'Fix with Codex: "undefined_9" is not defined',
        "Fix with Codex: Undefined name `undefined_9`",
    ]
    assert fix_all == "Fix all 4 problems in this file with Codex"
    sources = sorted(c.arguments[0]["diagnostics"][0]["source"] for c in commands(found)[:3])
    assert sources == ["Pyright", "Pyright", "ruff"]


async def test_a_title_is_the_messages_first_line_shortened_to_80_characters(ed: Editor) -> None:
    """The action's title is what the user picks from: the message's first line, at most 80 characters
    (longer ones end in "…"), and "problem" for a message that says nothing."""
    uri = ed.write("titles.py", TEXT)
    ed.open("titles.py")
    messages = ["a" * 80, "b" * 81, " \n ", "  first line\nsecond line"]
    here = [problem(n, message) for n, message in enumerate(messages)]
    found = await actions(ed, uri, at(0, 0), here, only=["quickfix"])
    assert fixes(found) == [
        "Fix with Codex: " + "a" * 80,
        "Fix with Codex: " + "b" * 79 + "…",
        "Fix with Codex: problem",
        "Fix with Codex: first line",
        "Fix all 4 problems in this file with Codex",
    ]


async def test_the_same_problem_is_one_and_another_code_is_another(ed: Editor) -> None:
    """A diagnostic is the same one by its range, message, source and code: reported by the plugin
    without a source (ours leaves an empty one out) and carried by the request with an empty one, it
    is offered once; two at one place with one message but different codes (two rules of one linter)
    are two problems."""
    uri = ed.write("identity.py", TEXT)
    ed.open("identity.py")
    sourceless = types.Diagnostic(range=problem(3).range, message="Shadowed name")
    report(ed, uri, 1, [sourceless])
    assert fixes(await actions(ed, uri, at(3), [problem(3, "Shadowed name", source="")])) == [
        "Fix with Codex: Shadowed name"
    ]
    uri = ed.write("codes.py", TEXT)
    ed.open("codes.py")
    two_rules = [
        types.Diagnostic(range=problem(5).range, message="Unused name", source="lint", code=code)
        for code in ("W1", "W2")
    ]
    report(ed, uri, 1, two_rules)
    assert fixes(await actions(ed, uri, at(5))) == [
        "Fix with Codex: Unused name",
        "Fix with Codex: Unused name",
        "Fix all 2 problems in this file with Codex",
    ]


async def test_closing_a_document_without_diagnostics_is_no_error(ed: Editor) -> None:
    """The server knows no diagnostics of a document nobody asked actions for: closing it is fine."""
    uri = ed.write("quiet.py", TEXT)
    before = len(ed.logs)
    ed.open("quiet.py")
    ed.close(uri)
    ed.open("quiet.py")
    await actions(ed, uri, at(0))  # answered after the close was handled
    assert [m.message for m in ed.logs[before:] if m.type == types.MessageType.Error] == []
