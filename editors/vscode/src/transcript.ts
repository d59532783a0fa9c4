/**
 * The transcript: every turn as the `codex/*` notifications tell it — the prompt, the reasoning summary and
 * the agent's text growing delta by delta, the plan, the commands run and the files changed, and how the turn
 * ended. A plain model: the webview (`transcriptView.ts`) renders it, tests feed it notifications.
 *
 * Each turn carries a revision number bumped on every change, so the view redraws only the turns that
 * changed. The oldest turns are dropped beyond `MAX_TURNS`.
 */
import {
  Notification,
  type CommandFinished,
  type CommandStarted,
  type DeltaEvent,
  type Item,
  type ItemEvent,
  type PlanStep,
  type PlanUpdated,
  type ProposalUpdated,
  type TransportNotice,
  type TurnCompleted,
  type TurnStarted,
} from "./protocol";

export const MAX_TURNS = 50;

export type Entry =
  | { kind: "reasoning"; id: string; text: string }
  | { kind: "message"; id: string; text: string }
  | { kind: "plan"; id: string; explanation?: string; steps: PlanStep[] }
  | { kind: "command"; id: string; command: string; status: string; exitCode?: number | null }
  | { kind: "fileChange"; id: string; files: string[]; status: string; message?: string }
  | { kind: "notice"; id: string; text: string }
  | { kind: "proposal"; id: string; files: string[]; hunks: Record<string, number> };

export interface TranscriptTurn {
  turnId: string;
  threadId: string;
  title: string;
  status: "running" | "completed" | "interrupted" | "failed";
  error?: string;
  entries: Entry[];
  revision: number;
}

function fileLabel(change: { path: string; kind: string; moveTo?: string | null }): string {
  if (change.kind === "move" && change.moveTo) {
    return `${change.path} → ${change.moveTo}`;
  }
  return change.kind === "update" ? change.path : `${change.path} (${change.kind})`;
}

export class Transcript {
  readonly turns: TranscriptTurn[] = [];
  private listeners: Array<() => void> = [];
  private sequence = 0;

  onDidChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  clear(): void {
    this.turns.length = 0;
    this.changed();
  }

  /** Take one `codex/*` notification; false when it is not one the transcript shows. */
  handle(method: string, params: unknown): boolean {
    const handled = this.dispatch(method, params);
    if (handled) {
      this.changed();
    }
    return handled;
  }

  private dispatch(method: string, p: unknown): boolean {
    switch (method) {
      case Notification.turnStarted:
        return this.started(p as TurnStarted);
      case Notification.itemStarted:
      case Notification.itemCompleted:
        return this.item((p as ItemEvent).turnId, (p as ItemEvent).item);
      case Notification.agentMessageDelta:
        return this.delta(p as DeltaEvent, "message");
      case Notification.reasoningDelta:
        return this.delta(p as DeltaEvent, "reasoning");
      case Notification.planUpdated:
        return this.plan(p as PlanUpdated);
      case Notification.commandStarted: {
        const e = p as CommandStarted;
        return this.put(e.turnId, { kind: "command", id: e.itemId, command: e.command.join(" "), status: "inProgress" });
      }
      case Notification.commandFinished: {
        const e = p as CommandFinished;
        const entry = this.find(e.turnId, e.itemId);
        if (entry?.kind !== "command") {
          return false;
        }
        return this.put(e.turnId, { ...entry, status: e.status, exitCode: e.exitCode });
      }
      case Notification.transport: {
        const e = p as TransportNotice;
        return this.put(e.turnId, { kind: "notice", id: `transport-${++this.sequence}`, text: e.message });
      }
      case Notification.turnCompleted:
        return this.completed(p as TurnCompleted);
      case Notification.proposalUpdated:
        return this.proposal(p as ProposalUpdated);
      default:
        return false;
    }
  }

  private started(e: TurnStarted): boolean {
    const existing = this.turn(e.turnId);
    if (existing) {
      existing.title = e.title ?? existing.title;
      existing.revision++;
      return true;
    }
    this.turns.push({
      turnId: e.turnId,
      threadId: e.threadId,
      title: e.title ?? "Codex turn",
      status: "running",
      entries: [],
      revision: 1,
    });
    if (this.turns.length > MAX_TURNS) {
      this.turns.splice(0, this.turns.length - MAX_TURNS);
    }
    return true;
  }

  private item(turnId: string, item: Item): boolean {
    switch (item.type) {
      case "agentMessage":
        return this.put(turnId, { kind: "message", id: item.id, text: item.text });
      case "reasoning":
        return this.put(turnId, { kind: "reasoning", id: item.id, text: item.summary });
      case "plan":
        return this.put(turnId, { kind: "plan", id: item.id, explanation: item.explanation ?? undefined, steps: item.steps });
      case "commandExecution":
        return this.put(turnId, {
          kind: "command",
          id: item.id,
          command: item.command.join(" "),
          status: item.status,
          exitCode: item.exitCode,
        });
      case "fileChange":
        return this.put(turnId, {
          kind: "fileChange",
          id: item.id,
          files: item.changes.map(fileLabel),
          status: item.status,
          message: item.message || undefined,
        });
      default:
        return false;
    }
  }

  private delta(e: DeltaEvent, kind: "message" | "reasoning"): boolean {
    const entry = this.find(e.turnId, e.itemId);
    const text = (entry && (entry.kind === "message" || entry.kind === "reasoning") ? entry.text : "") + e.delta;
    return this.put(e.turnId, { kind, id: e.itemId, text });
  }

  private plan(e: PlanUpdated): boolean {
    return this.put(e.turnId, { kind: "plan", id: "plan", explanation: e.explanation ?? undefined, steps: e.plan });
  }

  /** A review-mode proposal, in the turn that made it: how many hunks are pending, accepted… */
  private proposal(e: ProposalUpdated): boolean {
    const hunks: Record<string, number> = {};
    for (const hunk of e.hunks) {
      hunks[hunk.status] = (hunks[hunk.status] ?? 0) + 1;
    }
    // Once every hunk is decided the server lists no file: keep the ones it had.
    const before = this.find(e.turnId, e.proposalId);
    const files = e.files.length > 0 || before?.kind !== "proposal" ? e.files.map((f) => f.path) : before.files;
    return this.put(e.turnId, { kind: "proposal", id: e.proposalId, files, hunks });
  }

  private completed(e: TurnCompleted): boolean {
    const turn = this.ensure(e.turnId, e.threadId);
    turn.status = e.status;
    turn.error = e.error ?? undefined;
    turn.revision++;
    return true;
  }

  /** Add `entry` to its turn, or replace the entry with the same id (an item keeps its place). */
  private put(turnId: string, entry: Entry): boolean {
    const turn = this.ensure(turnId, "");
    const index = turn.entries.findIndex((e) => e.id === entry.id);
    if (index >= 0) {
      turn.entries[index] = entry;
    } else {
      turn.entries.push(entry);
    }
    turn.revision++;
    return true;
  }

  private find(turnId: string, id: string): Entry | undefined {
    return this.turn(turnId)?.entries.find((e) => e.id === id);
  }

  private turn(turnId: string): TranscriptTurn | undefined {
    return this.turns.find((t) => t.turnId === turnId);
  }

  /** The turn, created if its `turn/started` never came (a client attached mid-turn). */
  private ensure(turnId: string, threadId: string): TranscriptTurn {
    const turn = this.turn(turnId);
    if (turn) {
      return turn;
    }
    this.started({ turnId, threadId });
    return this.turn(turnId) as TranscriptTurn;
  }

  private changed(): void {
    for (const listener of this.listeners) {
      listener();
    }
  }
}
