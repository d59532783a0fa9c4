"""Review mode in the editor: the ``codex.*`` proposal commands, and telling the user what happens.

Commands (one object argument each):

- ``codex.proposals`` ``{}``: ``{proposals: [...]}``, the proposals with hunks still pending, each
  with its files (path, uri, the buffer version it was computed against, its unified diff) and
  hunks (``hunkId``, path, kind, status ``pending`` / ``conflicted``, the range of lines it
  changes in the current text, its diff, and for a conflicted hunk why);
- ``codex.acceptHunk`` / ``codex.rejectHunk`` ``{proposalId, hunkId}``;
- ``codex.applyProposal`` / ``codex.discardProposal`` ``{proposalId}``: every pending hunk;
- ``codex.showProposal`` ``{proposalId}``: the whole proposal as one diff, through
  ``window/showDocument`` of a ``.diff`` file in the state directory;
- ``codex.previewProposal`` ``{proposalId}``: for clients with change annotations (VS Code), one
  ``workspace/applyEdit`` whose edits carry ``needsConfirmation`` — VS Code's refactor preview,
  where the user may untick hunks; those applied are settled as accepted, the rest stay pending.

A decision answers ``{proposalId, accepted|rejected: [hunkId], conflicted: [hunkId], message,
proposal}`` (``proposal`` as ``codex.proposals`` lists it, ``null`` once nothing is pending).
Accepting sends one ``workspace/applyEdit`` for the hunks decided; a conflicted hunk is never
applied. Before each decision the hunks are re-anchored by content (see ``agent/book.py``).

Every change to a proposal (held, decided, re-anchored, superseded by a new turn, restored after a
restart) is a ``codex/proposal/updated`` notification for clients that declared
``experimental.codex``, a ``workspace/codeLens/refresh`` for clients that support it, a log line,
and — when the user did not cause it — a ``window/showMessage`` saying what happened.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.uris import from_fs_path

from codex_lsp.lsp.features.progress import scrubbed
from codex_lsp.lsp.state import CodexServer  # at run time: pygls reads command annotations

if TYPE_CHECKING:
    from codex_lsp.agent import Decision, HunkState, Prepared, Proposal, ProposalBook, ProposalEvent
    from codex_lsp.lsp.host.applier import LspApplier
    from codex_lsp.lsp.host.runtime import Host

__all__ = ["REVIEW_COMMANDS", "present", "proposal_payload", "setup"]

PROPOSALS, ACCEPT, REJECT = "codex.proposals", "codex.acceptHunk", "codex.rejectHunk"
APPLY, DISCARD, SHOW, PREVIEW = (
    "codex.applyProposal",
    "codex.discardProposal",
    "codex.showProposal",
    "codex.previewProposal",
)
REVIEW_COMMANDS = (PROPOSALS, ACCEPT, REJECT, APPLY, DISCARD, SHOW, PREVIEW)
NOTIFICATION = "codex/proposal/updated"


# -- payloads ---------------------------------------------------------------------------------------


def _uri(root: str, path: str) -> str:
    absolute = str(Path(root) / path)
    return from_fs_path(absolute) or absolute


def _position(line: int) -> dict[str, int]:
    return {"line": line, "character": 0}


def hunk_payload(proposal: Proposal, hunk_id: str, state: HunkState | None) -> dict[str, Any]:
    hunk = proposal.hunk(hunk_id)
    assert hunk is not None
    status: str = hunk.status
    if status == "pending" and state is not None and state.conflict is not None:
        status = "conflicted"
    payload: dict[str, Any] = {
        "hunkId": hunk.id,
        "path": hunk.path,
        "uri": _uri(proposal.root, hunk.path),
        "kind": hunk.kind,
        "status": status,
        "label": hunk.label,
        "diff": hunk.diff(),
        "range": None,
    }
    if hunk.move_to:
        payload["moveTo"] = hunk.move_to
    if state is not None and state.line is not None and hunk.status == "pending":
        payload["range"] = {"start": _position(state.line), "end": _position(state.end_line)}
    if status == "conflicted" and state is not None:
        payload["conflict"] = state.conflict
    return payload


def proposal_payload(book: ProposalBook, proposal: Proposal) -> dict[str, Any]:
    """A proposal as the commands and notifications show it."""
    states = book.states(proposal)
    diffs = dict(book.diffs(proposal.id))
    files = [
        {
            "path": path,
            "uri": _uri(proposal.root, path),
            "version": proposal.versions.get(path),
            "diff": diffs[path],
        }
        for path in proposal.paths()
        if path in diffs
    ]
    return {
        "proposalId": proposal.id,
        "threadId": proposal.thread_id,
        "turnId": proposal.turn_id,
        "status": "pending" if proposal.open else "done",
        "files": files,
        "hunks": [hunk_payload(proposal, h.id, states.get(h.id)) for h in proposal.hunks],
    }


def _decision_payload(book: ProposalBook, decision: Decision, key: str) -> dict[str, Any]:
    proposal = book.get(decision.proposal_id)
    return {
        "proposalId": decision.proposal_id,
        key: list(decision.done),
        "conflicted": list(decision.conflicted),
        "message": decision.message,
        "proposal": proposal_payload(book, proposal) if proposal is not None and proposal.open else None,
    }


# -- telling the user -------------------------------------------------------------------------------


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _user_message(event: ProposalEvent) -> tuple[str, types.MessageType] | None:
    """What the user should read about ``event`` (``None``: they caused it, or nothing changed)."""
    proposal, reason = event.proposal, event.reason
    labels = {h.id: h.label for h in proposal.hunks}
    if event.conflicts:
        names = ", ".join(f"{hid} ({labels[hid]})" for hid in event.conflicts)
        why = f" ({event.message})" if event.message else ""
        verb, pronoun = ("matches", "it") if len(event.conflicts) == 1 else ("match", "them")
        return (
            f"Codex: proposal {proposal.id}: {names} no longer {verb} the file{why}; not applied unless "
            f"the text comes back. Reject {pronoun}, or ask again.",
            types.MessageType.Warning,
        )
    if reason == "superseded":
        return (
            f"Codex: the {_count(len(event.hunks), 'hunk')} still pending in proposal {proposal.id} were "
            "discarded, never applied: a new turn started on the same thread.",
            types.MessageType.Info,
        )
    if reason == "restored":
        return (
            f"Codex: proposal {proposal.id} from before the restart is still pending review "
            f"({_count(len(event.hunks), 'hunk')}); it was re-anchored to the files as they are now.",
            types.MessageType.Info,
        )
    if reason == "reanchored" and event.message:
        return f"Codex: proposal {proposal.id}: {event.message}.", types.MessageType.Info
    return None


def present(server: CodexServer, host: Host, folder: Path, event: ProposalEvent) -> None:
    """Show a change of a proposal: notification, lens refresh, log, and a message when due."""
    book = host.book(folder)[0]
    state = server.state
    server.log(f"codex proposal {event.proposal.id}: {event.reason} {', '.join(event.hunks)}".rstrip())
    if state.caps.codex_streaming:
        payload = {"reason": event.reason, **proposal_payload(book, event.proposal)}
        server.notify(NOTIFICATION, scrubbed(payload, state.scrub))
    message = _user_message(event)
    if message is not None:
        server.show(*message)
    if state.caps.code_lens_refresh:
        state.run_task(_refresh_lenses(server), "codex-code-lens-refresh")


async def _refresh_lenses(server: CodexServer) -> None:
    try:
        await server.protocol.send_request_async(types.WORKSPACE_CODE_LENS_REFRESH, None)
    except Exception as exc:  # a client that advertised it and failed: lenses refresh on the next edit
        server.log(f"workspace/codeLens/refresh failed: {exc}")


# -- arguments ----------------------------------------------------------------------------------------


def _argument(command: str, args: tuple[Any, ...], *keys: str) -> list[str]:
    shape = "{" + ", ".join(keys) + "}"
    if len(args) != 1 or not isinstance(args[0], dict):
        raise JsonRpcInvalidParams(message=f"{command}: expected one argument, an object {shape}")
    values = []
    for key in keys:
        value = args[0].get(key)
        if not isinstance(value, str) or not value:
            raise JsonRpcInvalidParams(message=f"{command}: {key} must be a non-empty string")
        values.append(value)
    return values


async def _located(server: CodexServer, command: str, proposal_id: str) -> tuple[ProposalBook, LspApplier]:
    from codex_lsp.lsp.host.runtime import CommandError

    host = await server.state.host(server)
    try:
        return host.proposal(proposal_id)
    except CommandError as exc:
        raise JsonRpcInvalidParams(message=f"{command}: {exc}") from None


def _checked(command: str, call: Any) -> Any:
    try:
        return call()
    except KeyError as exc:
        raise JsonRpcInvalidParams(message=f"{command}: {exc.args[0]}") from None


# -- showing a proposal -----------------------------------------------------------------------------


def _diff_file(proposal: Proposal, book: ProposalBook) -> Path:
    from codex_lsp.agent import default_state_dir

    directory = default_state_dir() / "proposals"
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{proposal.id}.diff"
    target.write_text("".join(diff for _, diff in book.diffs(proposal.id)), encoding="utf-8")
    return target


async def _show(server: CodexServer, book: ProposalBook, proposal: Proposal) -> dict[str, Any]:
    target = _diff_file(proposal, book)
    uri = from_fs_path(str(target)) or str(target)
    shown = False
    if server.state.caps.show_document:
        try:
            answer = await server.window_show_document_async(
                types.ShowDocumentParams(uri=uri, take_focus=True)
            )
            shown = bool(getattr(answer, "success", False))
        except Exception as exc:
            server.log(f"window/showDocument failed: {exc}")
    return {"proposalId": proposal.id, "uri": uri, "shown": shown}


def _preview_edit(server: CodexServer, book: ProposalBook, prepared: Prepared) -> types.WorkspaceEdit:
    """The prepared hunks as one edit, each under its own annotation that needs confirmation."""
    from codex_lsp.lsp.host.edits import lsp_text_edits
    from codex_lsp.lsp.host.rebase import Edit

    caps = server.state.caps
    proposal = prepared.proposal
    annotations: dict[str, types.ChangeAnnotation] = {}
    operations: list[types.TextDocumentEdit | types.CreateFile | types.RenameFile | types.DeleteFile] = []
    for change in prepared.changes:
        hunks = [h for h in prepared.ready if h.path == change.path and h.kind == "update"]
        if not hunks or change.old_text is None:
            continue
        edits: list[types.TextEdit | types.AnnotatedTextEdit] = []
        for hunk in hunks:
            annotation = f"codex-{proposal.id}-{hunk.id}"
            annotations[annotation] = types.ChangeAnnotation(
                label=f"Codex {hunk.id}: {hunk.label}",
                needs_confirmation=True,
                description=f"proposal {proposal.id}",
            )
            own = [Edit(e.start, e.end, e.text) for e in prepared.edits[hunk.id]]
            for lsp_edit in lsp_text_edits(change.old_text, own, caps, annotated=True):
                assert isinstance(lsp_edit, types.AnnotatedTextEdit)
                lsp_edit.annotation_id = annotation
                edits.append(lsp_edit)
        document = server.state.documents.at_path(str(Path(proposal.root) / change.path))
        version = document.version if document is not None else None
        identifier = types.OptionalVersionedTextDocumentIdentifier(
            uri=_uri(proposal.root, change.path), version=version
        )
        operations.append(types.TextDocumentEdit(text_document=identifier, edits=edits))
    return types.WorkspaceEdit(document_changes=operations, change_annotations=annotations)


async def _preview(server: CodexServer, book: ProposalBook, proposal_id: str) -> dict[str, Any]:
    caps = server.state.caps
    if not (caps.apply_edit and caps.document_changes and caps.change_annotations):
        raise JsonRpcInvalidParams(
            message=f"{PREVIEW}: this editor has no refactor preview (it lacks change annotations); "
            f"use {ACCEPT} or {APPLY}"
        )
    async with book.lock:
        prepared = _checked(PREVIEW, lambda: book.prepare(proposal_id, None))
        updates = tuple(h for h in prepared.ready if h.kind == "update")
        prepared = prepared._replace(ready=updates)
        if not updates:
            return _decision_payload(book, _no_decision(prepared), "accepted")
        edit = _preview_edit(server, book, prepared)
        label = f"Codex: review proposal {prepared.proposal.id}"
        params = types.ApplyWorkspaceEditParams(edit=edit, label=label)
        try:
            answer = await server.protocol.send_request_async(types.WORKSPACE_APPLY_EDIT, params)
        except Exception as exc:
            raise JsonRpcInvalidParams(message=f"{PREVIEW}: the editor failed the edit: {exc}") from None
        if not getattr(answer, "applied", False):
            reason = getattr(answer, "failure_reason", None) or "the preview was cancelled"
            decision = _no_decision(prepared)._replace(message=f"nothing was applied: {reason}")
            return _decision_payload(book, decision, "accepted")
        return _decision_payload(book, book.settle_applied(prepared), "accepted")


def _no_decision(prepared: Prepared) -> Decision:
    from codex_lsp.agent import Decision

    return Decision(prepared.proposal.id, (), prepared.conflicted, prepared.message)


# -- registration -------------------------------------------------------------------------------------


def setup(server: CodexServer) -> None:
    """Register the review commands."""

    @server.command(PROPOSALS)
    async def proposals(ls: CodexServer, *args: Any) -> dict[str, Any]:
        if args and (len(args) != 1 or not isinstance(args[0], dict)):
            raise JsonRpcInvalidParams(message=f"{PROPOSALS}: expected one argument, an object {{}}")
        host = await ls.state.host(ls)
        listed = [
            proposal_payload(book, proposal) for book, _ in host.books.values() for proposal in book.listed()
        ]
        return {"proposals": listed}

    @server.command(ACCEPT)
    async def accept(ls: CodexServer, *args: Any) -> dict[str, Any]:
        proposal_id, hunk_id = _argument(ACCEPT, args, "proposalId", "hunkId")
        book, applier = await _located(ls, ACCEPT, proposal_id)
        try:
            decision = await book.accept(proposal_id, [hunk_id], applier)
        except KeyError as exc:
            raise JsonRpcInvalidParams(message=f"{ACCEPT}: {exc.args[0]}") from None
        return _decision_payload(book, decision, "accepted")

    @server.command(REJECT)
    async def reject(ls: CodexServer, *args: Any) -> dict[str, Any]:
        proposal_id, hunk_id = _argument(REJECT, args, "proposalId", "hunkId")
        book, _ = await _located(ls, REJECT, proposal_id)
        return _decision_payload(
            book, _checked(REJECT, lambda: book.reject(proposal_id, [hunk_id])), "rejected"
        )

    @server.command(APPLY)
    async def apply(ls: CodexServer, *args: Any) -> dict[str, Any]:
        (proposal_id,) = _argument(APPLY, args, "proposalId")
        book, applier = await _located(ls, APPLY, proposal_id)
        return _decision_payload(book, await book.accept(proposal_id, None, applier), "accepted")

    @server.command(DISCARD)
    async def discard(ls: CodexServer, *args: Any) -> dict[str, Any]:
        (proposal_id,) = _argument(DISCARD, args, "proposalId")
        book, _ = await _located(ls, DISCARD, proposal_id)
        return _decision_payload(book, _checked(DISCARD, lambda: book.reject(proposal_id, None)), "rejected")

    @server.command(SHOW)
    async def show(ls: CodexServer, *args: Any) -> dict[str, Any]:
        (proposal_id,) = _argument(SHOW, args, "proposalId")
        book, _ = await _located(ls, SHOW, proposal_id)
        proposal = book.get(proposal_id)
        assert proposal is not None
        return await _show(ls, book, proposal)

    @server.command(PREVIEW)
    async def preview(ls: CodexServer, *args: Any) -> dict[str, Any]:
        (proposal_id,) = _argument(PREVIEW, args, "proposalId")
        book, _ = await _located(ls, PREVIEW, proposal_id)
        return await _preview(ls, book, proposal_id)
