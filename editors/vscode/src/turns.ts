/**
 * Running model turns. Every turn — Ask, Fix Problems in File, and the server's own "Fix with Codex" quick
 * fixes, which reach here through the language client's command middleware — is sent as
 * `workspace/executeCommand` with a work-done token of ours, so that:
 *
 * - a notification shows its progress (the agent's latest line, the command running, the file being edited)
 *   with a Cancel button, which sends `window/workDoneProgress/cancel` for that turn alone;
 * - the status bar knows a turn is running (a click interrupts every turn: `codex.interrupt`).
 *
 * The request itself answers when the turn ends, with its result.
 */
import type { Connection, Ui } from "./host";
import { ServerCommand, type TurnResult, type WorkDoneProgress } from "./protocol";

export interface TurnsDeps {
  /** The server's connection, once a starting server is up; undefined when it is not running. */
  connection(): Promise<Connection | undefined>;
  ui: Ui;
  /** Something the status bar shows changed. */
  changed(): void;
  /** A turn is about to start: show the transcript. */
  turnStarting(): void;
  /** A turn ended, however it did (what the turn met, a refreshed or refused sign-in, may have changed). */
  turnEnded?(): void;
}

interface ActiveTurn {
  title: string;
  line: string;
}

const TITLE_LENGTH = 60;

export function shorten(text: string, length: number): string {
  const line = text.split(/\s+/).filter(Boolean).join(" ");
  return line.length <= length ? line : `${line.slice(0, length - 1)}…`;
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class Turns {
  private counter = 0;
  private readonly active = new Map<string, ActiveTurn>();
  /** Why the last turn failed, until the next one starts. */
  lastError: string | undefined;

  constructor(private readonly deps: TurnsDeps) {}

  get running(): number {
    return this.active.size;
  }

  /** The latest progress line of the most recently started turn still running. */
  get line(): string | undefined {
    let line: string | undefined;
    for (const turn of this.active.values()) {
      line = turn.line || turn.title;
    }
    return line;
  }

  /** Run one turn command (`codex.ask`, `codex.fixDiagnostics`); undefined when it could not run. */
  async run(command: string, args: unknown, title: string): Promise<TurnResult | undefined> {
    const connection = await this.deps.connection();
    if (!connection) {
      void this.deps.ui.error("Codex: the codex-lsp server is not running (see “Codex: Show Server Log”).");
      return undefined;
    }
    const token = `codex-vscode-turn-${++this.counter}`;
    const turn: ActiveTurn = { title: shorten(title, TITLE_LENGTH), line: "" };
    this.active.set(token, turn);
    this.lastError = undefined;
    this.deps.changed();
    this.deps.turnStarting();
    try {
      const result = await this.deps.ui.withProgress(`Codex: ${turn.title}`, async (progress) => {
        const listener = connection.onProgress(token, (value: WorkDoneProgress) => {
          if (value.kind === "report" && value.message) {
            turn.line = value.message;
            progress.report(value.message);
            this.deps.changed();
          }
        });
        progress.onCancel(() => {
          connection.notify("window/workDoneProgress/cancel", { token }).catch(() => undefined);
        });
        try {
          return await connection.request<TurnResult>("workspace/executeCommand", {
            command,
            arguments: [args],
            workDoneToken: token,
          });
        } finally {
          listener.dispose();
        }
      });
      if (result.status === "failed") {
        this.lastError = result.error ?? "the turn failed";
      }
      return result;
    } catch (error) {
      this.lastError = reasonOf(error);
      void this.deps.ui.error(`Codex: ${this.lastError}`);
      return undefined;
    } finally {
      this.active.delete(token);
      this.deps.changed();
      this.deps.turnEnded?.();
    }
  }

  /** Interrupt every running turn; returns how many the server stopped. */
  async cancelAll(): Promise<number> {
    const connection = await this.deps.connection();
    if (!connection) {
      return 0;
    }
    const answer = await connection.request<{ interrupted: string[] }>("workspace/executeCommand", {
      command: ServerCommand.interrupt,
      arguments: [{}],
    });
    return answer.interrupted.length;
  }
}
