/**
 * Review mode (`"codex.editMode": "review"`): the agent's edits are held by codex-lsp as proposals. The
 * server's code lenses (Accept / Reject above each hunk, Accept all / Discard all / Show diff / Preview on
 * the first) work through the language client by themselves; these palette commands do the same for the
 * hunk under the cursor, or the proposal of the file, and ask with a quick pick when that is ambiguous.
 */
import type { EditorSnapshot, Ui } from "./host";
import { ServerCommand, type Range } from "./protocol";

export interface Hunk {
  hunkId: string;
  path: string;
  uri: string;
  kind: string;
  /** `pending`, `conflicted` (no longer matches the file), `accepted`, `rejected` or `discarded`. */
  status: string;
  label: string;
  /** The lines it changes in the current text (end exclusive); null when it no longer matches. */
  range: Range | null;
}

export interface Proposal {
  proposalId: string;
  turnId: string;
  files: Array<{ path: string; uri: string }>;
  hunks: Hunk[];
}

export interface Decision {
  proposalId: string;
  conflicted: string[];
  message: string;
}

export interface ReviewDeps {
  ui: Ui;
  editor(): EditorSnapshot | undefined;
  /** A server command; undefined when it failed (the user was told). */
  request<R>(command: string, args: unknown): Promise<R | undefined>;
}

export interface Located {
  proposal: Proposal;
  hunk: Hunk;
}

function undecided(hunk: Hunk): boolean {
  return hunk.status === "pending" || hunk.status === "conflicted";
}

/** The undecided hunks of every proposal, those of `uri` first. */
export function undecidedHunks(proposals: Proposal[], uri?: string): Located[] {
  const all = proposals.flatMap((proposal) => proposal.hunks.filter(undecided).map((hunk) => ({ proposal, hunk })));
  return [...all.filter((l) => l.hunk.uri === uri), ...all.filter((l) => l.hunk.uri !== uri)];
}

/** The undecided hunk of `uri` whose lines hold `line` (an insertion: the line it is inserted at). */
export function hunkAt(proposals: Proposal[], uri: string, line: number): Located | undefined {
  return undecidedHunks(proposals, uri).find(({ hunk }) => {
    if (hunk.uri !== uri || !hunk.range) {
      return false;
    }
    const { start, end } = hunk.range;
    return start.line <= line && line < Math.max(end.line, start.line + 1);
  });
}

function hunkLabel({ hunk }: Located): string {
  const where = hunk.range ? `${hunk.path}:${hunk.range.start.line + 1}` : `${hunk.path} (no longer matches)`;
  return `${hunk.hunkId} · ${where} · ${hunk.label}`;
}

export class Review {
  constructor(private readonly deps: ReviewDeps) {}

  /** Accept or reject the hunk under the cursor (else the one the user picks). */
  async decideHunk(decision: "accept" | "reject"): Promise<void> {
    const proposals = await this.pending();
    if (!proposals) {
      return;
    }
    const editor = this.deps.editor();
    const target =
      (editor && hunkAt(proposals, editor.uri, editor.cursor.line)) ??
      (await this.pick(undecidedHunks(proposals, editor?.uri), `${decision === "accept" ? "Accept" : "Reject"} which hunk?`));
    if (!target) {
      return;
    }
    const command = decision === "accept" ? ServerCommand.acceptHunk : ServerCommand.rejectHunk;
    this.report(await this.deps.request<Decision>(command, { proposalId: target.proposal.proposalId, hunkId: target.hunk.hunkId }));
  }

  /** Apply or discard every undecided hunk of the active file's proposal (else the one the user picks). */
  async decideProposal(decision: "apply" | "discard"): Promise<void> {
    const proposals = await this.pending();
    if (!proposals) {
      return;
    }
    const uri = this.deps.editor()?.uri;
    const touching = proposals.filter((p) => p.hunks.some((h) => undecided(h) && h.uri === uri));
    const candidates = touching.length === 1 ? touching : proposals;
    const target =
      candidates.length === 1
        ? candidates[0]
        : (
            await this.deps.ui.pick(
              candidates.map((proposal) => ({
                label: `${proposal.proposalId} · ${proposal.files.map((f) => f.path).join(", ")}`,
                proposal,
              })),
              `${decision === "apply" ? "Apply" : "Discard"} which proposal?`,
            )
          )?.proposal;
    if (!target) {
      return;
    }
    const command = decision === "apply" ? ServerCommand.applyProposal : ServerCommand.discardProposal;
    this.report(await this.deps.request<Decision>(command, { proposalId: target.proposalId }));
  }

  /** The proposals with undecided hunks; undefined (the user told) when there are none. */
  private async pending(): Promise<Proposal[] | undefined> {
    const answer = await this.deps.request<{ proposals: Proposal[] }>(ServerCommand.proposals, {});
    if (!answer) {
      return undefined;
    }
    const proposals = answer.proposals.filter((p) => p.hunks.some(undecided));
    if (proposals.length === 0) {
      void this.deps.ui.info('Codex: no change is waiting for review (set "codex.editMode" to "review" to review edits).');
      return undefined;
    }
    return proposals;
  }

  private async pick(candidates: Located[], placeHolder: string): Promise<Located | undefined> {
    if (candidates.length === 1) {
      return candidates[0];
    }
    const chosen = await this.deps.ui.pick(
      candidates.map((located) => ({ label: hunkLabel(located), located })),
      placeHolder,
    );
    return chosen?.located;
  }

  private report(decision: Decision | undefined): void {
    if (decision && decision.conflicted.length > 0) {
      void this.deps.ui.warning(`Codex: ${decision.message || `${decision.conflicted.join(", ")} no longer match the file`}`);
    }
  }
}
