"""``textDocument/codeAction``: "Fix with Codex" and friends, built instantly from what the server knows.

Nothing here calls the model: every action is a command (``codex.fixDiagnostics`` or
``codex.ask``) that runs a turn only when the user picks it. Offered:

- for each diagnostic in the request's context (the client says it applies here) or overlapping the
  range in the diagnostics store (``codex/didChangeDiagnostics``), in document order — "Fix with
  Codex: <message>"
  (``quickfix``, tagged ``LlmGenerated`` where the client understands the tag);
- "Fix all N problems in this file with Codex" when the file has several;
- with a non-empty selection, fixed-prompt actions under ``refactor.rewrite``: explain, add
  docstrings, write tests;
- for clients that tell us no diagnostics (no plugin, a context limited to our own), one
  "Codex: fix the problems on this line" — only when the user explicitly asked for actions, never on
  automatic lightbulb requests (``triggerKind`` Automatic). A request without ``triggerKind`` counts
  as explicit: the field is optional, and clients that omit it (ALE, lsp-mode 8.0, CodeMirror's
  client) only ask when the user does. The range may be empty or lie within one line (or be that
  whole line): clients send the cursor's line or word as the range when nothing is selected.

A request's range that ends before it starts (a selection made backwards) means the same span in
order; a diagnostic's that does is where the problem starts (``ordered_diagnostic``).

Never a ``source.fixAll`` kind: nothing may run a paid model on save.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from cattrs import Converter
from lsprotocol import types
from lsprotocol.converters import get_converter

from codex_lsp.lsp.capabilities import ClientCaps
from codex_lsp.lsp.features.diagnostics import diagnostic_key, ordered, ordered_diagnostic
from codex_lsp.lsp.features.resolve import lazy

if TYPE_CHECKING:
    from codex_lsp.lsp.state import CodexServer

__all__ = ["KINDS", "build_actions", "setup"]

KINDS = [types.CodeActionKind.QuickFix, types.CodeActionKind.RefactorRewrite]
MAX_SINGLE_FIXES = 20
"""Per-diagnostic actions offered at one place at most (the menu stays usable)."""
SELECTION_PROMPTS = (
    ("Codex: explain this code", "Explain what the selected code does."),
    ("Codex: add docstrings", "Add docstrings to the selected code."),
    ("Codex: write tests for this code", "Write tests for the selected code."),
)


@functools.cache
def _converter() -> Converter:
    """lsprotocol's converter, built on first use (building it is slow; start-up does not need it)."""
    return get_converter()


def _key(position: types.Position) -> tuple[int, int]:
    return position.line, position.character


def _wanted(only: list[str] | None, kind: str) -> bool:
    return not only or any(kind == k or kind.startswith(k + ".") for k in only)


def _title(message: str) -> str:
    line = message.strip().splitlines()[0] if message.strip() else "problem"
    return line if len(line) <= 80 else line[:79] + "…"


def _action(
    caps: ClientCaps,
    title: str,
    kind: str,
    command: types.Command,
    diagnostics: list[types.Diagnostic] | None,
) -> types.CodeAction | types.Command:
    if not caps.code_action_literals:
        return command
    tags = [types.CodeActionTag.LlmGenerated] if caps.llm_tag else None
    action = types.CodeAction(title=title, kind=kind, diagnostics=diagnostics, command=command, tags=tags)
    return lazy(action) if caps.edits_by_resolve else action  # its edit comes on codeAction/resolve


def build_actions(
    caps: ClientCaps,
    params: types.CodeActionParams,
    version: int | None,
    here: list[types.Diagnostic],
    known: int,
    reported: bool,
) -> list[types.CodeAction | types.Command]:
    """The actions for one request; ``here`` are the diagnostics known for the document that overlap
    the request's range, ``known`` how many it has in all, and ``reported`` whether an editor plugin
    tells us all of them (then no fallback is needed)."""
    uri, rng, context = params.text_document.uri, ordered(params.range), params.context
    only = [str(k) for k in context.only] if context.only else None
    actions: list[types.CodeAction | types.Command] = []
    selection = _key(rng.start) != _key(rng.end)
    one_line = rng.start.line == rng.end.line or (
        rng.end.line == rng.start.line + 1 and rng.end.character == 0
    )
    if _wanted(only, types.CodeActionKind.QuickFix):
        for d in here[:MAX_SINGLE_FIXES]:
            title = f"Fix with Codex: {_title(d.message)}"
            arguments = [{"uri": uri, "version": version, "diagnostics": [_converter().unstructure(d)]}]
            command = types.Command(title=title, command="codex.fixDiagnostics", arguments=arguments)
            actions.append(_action(caps, title, types.CodeActionKind.QuickFix, command, [d]))
        if known > 1:
            title = f"Fix all {known} problems in this file with Codex"
            arguments = [{"uri": uri, "version": version, "all": True}]
            command = types.Command(title=title, command="codex.fixDiagnostics", arguments=arguments)
            actions.append(_action(caps, title, types.CodeActionKind.QuickFix, command, None))
        invoked = context.trigger_kind != types.CodeActionTriggerKind.Automatic
        if not here and invoked and not reported and one_line:
            actions.append(_line_fallback(caps, uri, version, rng))
    if selection and _wanted(only, types.CodeActionKind.RefactorRewrite):
        for title, prompt in SELECTION_PROMPTS:
            arguments = [
                {"prompt": prompt, "uri": uri, "version": version, "range": _converter().unstructure(rng)}
            ]
            command = types.Command(title=title, command="codex.ask", arguments=arguments)
            actions.append(_action(caps, title, types.CodeActionKind.RefactorRewrite, command, None))
    return actions


def _line_fallback(
    caps: ClientCaps, uri: str, version: int | None, rng: types.Range
) -> types.CodeAction | types.Command:
    line = rng.start.line
    title = "Codex: fix the problems on this line"
    whole_line = types.Range(types.Position(line, 0), types.Position(line + 1, 0))
    prompt = (
        f"Fix the problems on line {line + 1} of this file (the diagnostics the editor shows there "
        "did not reach the language server; check the line yourself)."
    )
    arguments: list[Any] = [
        {"prompt": prompt, "uri": uri, "version": version, "range": _converter().unstructure(whole_line)}
    ]
    command = types.Command(title=title, command="codex.ask", arguments=arguments)
    return _action(caps, title, types.CodeActionKind.QuickFix, command, None)


def _with_context(
    here: list[types.Diagnostic], context: Sequence[types.Diagnostic]
) -> list[types.Diagnostic]:
    """``here`` and every diagnostic the client put in the request, in document order: the client says
    those apply here even where they do not overlap the range (lsp-mode sends the whole line's with a
    cursor at its start)."""
    known = {diagnostic_key(d) for d in here}
    extra = [d for d in map(ordered_diagnostic, context) if diagnostic_key(d) not in known]
    if not extra:
        return here
    return sorted(here + extra, key=lambda d: (d.range.start.line, d.range.start.character))


def setup(server: CodexServer) -> None:
    """Register ``textDocument/codeAction``."""
    options = types.CodeActionOptions(code_action_kinds=KINDS, resolve_provider=True)

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, options)
    def code_actions(
        ls: CodexServer, params: types.CodeActionParams
    ) -> list[types.CodeAction | types.Command] | None:
        state = ls.state
        uri = params.text_document.uri
        document = state.documents.get(uri)
        version = document.version if document is not None else None
        store = state.diagnostics
        store.observe(uri, version, params.context.diagnostics)
        here = _with_context(store.overlapping(uri, version, params.range), params.context.diagnostics)
        known = store.count(uri, version)
        return build_actions(state.caps, params, version, here, known, store.reported(uri)) or None
