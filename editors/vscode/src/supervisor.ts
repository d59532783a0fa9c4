/**
 * Keeps codex-lsp running: starts it, and when it exits unexpectedly starts it again after a delay that
 * doubles with every crash in a row (1 s, 2 s, 4 s … 30 s). A server that ran for a minute counts as healthy
 * again; after five quick crashes in a row it stays down until the user restarts it, and the status bar says
 * so. Every start resolves the executable again and uses a fresh language client (a client whose start
 * failed cannot be started twice).
 */
import type { Clock, Disposable } from "./host";
import type { Resolution, ServerSource } from "./serverCommand";

export type ServerState =
  | { kind: "stopped" }
  | { kind: "starting" }
  | { kind: "running"; command: string; source: ServerSource }
  | { kind: "restarting"; inMs: number; reason: string }
  | { kind: "failed"; message: string };

export interface RestartOptions {
  firstDelayMs: number;
  maxDelayMs: number;
  /** A server that ran this long before exiting was healthy: the crash count starts over. */
  healthyAfterMs: number;
  maxQuickCrashes: number;
}

export const DEFAULT_RESTART: RestartOptions = {
  firstDelayMs: 1000,
  maxDelayMs: 30_000,
  healthyAfterMs: 60_000,
  maxQuickCrashes: 5,
};

/**
 * What the language client does when reading from or writing to the server fails: the first three
 * failures in a row are let pass (a write can fail while the server is exiting, and its exit is reported
 * then); after that the client stops, and a client that stops itself never calls its close handler, so
 * the supervisor is told here that the server is gone (else a crashed server stayed down for good).
 */
export function connectionFailed(
  count: number | undefined,
  message: string,
  exited: (reason: string) => void,
): "continue" | "shutdown" {
  if (count !== undefined && count <= 3) {
    return "continue";
  }
  exited(`the connection failed: ${message}`);
  return "shutdown";
}

/** Exponential backoff over the crashes in a row. */
export class RestartPolicy {
  private crashes = 0;

  constructor(private readonly options: RestartOptions = DEFAULT_RESTART) {}

  /** The server exited after running `ranMs`: the delay before starting it again, or undefined to give up. */
  next(ranMs: number): number | undefined {
    if (ranMs >= this.options.healthyAfterMs) {
      this.crashes = 0;
    }
    this.crashes += 1;
    if (this.crashes > this.options.maxQuickCrashes) {
      return undefined;
    }
    return Math.min(this.options.maxDelayMs, this.options.firstDelayMs * 2 ** (this.crashes - 1));
  }

  get crashesInARow(): number {
    return this.crashes;
  }

  reset(): void {
    this.crashes = 0;
  }
}

/** One started server; `vscodeapi.ts` makes it from a LanguageClient. */
export interface ManagedServer {
  start(): Promise<void>;
  /** Stop the server and release everything the client registered. */
  dispose(): Promise<void>;
}

export interface SupervisorDeps {
  resolve(): Promise<Resolution>;
  /** Make a client for `command`; it calls `exited` when the server stops without being asked to. */
  create(command: string, exited: (reason: string) => void): ManagedServer;
  clock: Clock;
  onState(state: ServerState): void;
  log(line: string): void;
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class Supervisor {
  state: ServerState = { kind: "stopped" };
  private server: ManagedServer | undefined;
  private timer: Disposable | undefined;
  private startedAt = 0;
  /** Bumped by every start and stop, so that a late callback of an earlier attempt changes nothing. */
  private attempt = 0;
  private readonly policy: RestartPolicy;
  private waiters: Array<() => void> = [];
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: SupervisorDeps,
    options: RestartOptions = DEFAULT_RESTART,
  ) {
    this.policy = new RestartPolicy(options);
  }

  /** Start the server (resolving which one); a start that fails counts as a crash. */
  start(): Promise<void> {
    return this.serially(() => this.startNow());
  }

  /** The user asked for a restart: forget earlier crashes and start again. */
  restart(): Promise<void> {
    return this.serially(() => {
      this.policy.reset();
      return this.startNow();
    });
  }

  stop(): Promise<void> {
    return this.serially(async () => {
      this.cancelTimer();
      this.attempt++;
      await this.release();
      this.setState({ kind: "stopped" });
    });
  }

  /** Run starts and stops one after the other: an old server is always gone before a new one starts, so
   * two clients never hold the server's commands at once. */
  private serially(operation: () => Promise<void>): Promise<void> {
    const run = this.queue.then(operation, operation);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async startNow(): Promise<void> {
    this.cancelTimer();
    const attempt = ++this.attempt;
    await this.release();
    this.setState({ kind: "starting" });
    const resolution = await this.deps.resolve();
    if (attempt !== this.attempt) {
      return;
    }
    if ("error" in resolution) {
      this.deps.log(`codex-lsp: ${resolution.error}`);
      this.setState({ kind: "failed", message: resolution.error });
      return;
    }
    this.deps.log(`starting ${resolution.command} --stdio (found ${describe(resolution.source)})`);
    const server = this.deps.create(resolution.command, (reason) => this.exited(attempt, reason));
    this.server = server;
    this.startedAt = this.deps.clock.now();
    try {
      await server.start();
    } catch (error) {
      this.exited(attempt, `it did not start: ${reasonOf(error)}`);
      return;
    }
    if (attempt === this.attempt) {
      this.setState({ kind: "running", command: resolution.command, source: resolution.source });
    }
  }

  /** Resolves once the server is no longer starting (running, or failed to). */
  settled(): Promise<void> {
    if (this.state.kind !== "starting") {
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private exited(attempt: number, reason: string): void {
    if (attempt !== this.attempt) {
      return; // a stopped or replaced server, or the second report of the same exit
    }
    this.attempt++;
    const delay = this.policy.next(this.deps.clock.now() - this.startedAt);
    if (delay === undefined) {
      const message = `codex-lsp stopped ${this.policy.crashesInARow} times in a row (last: ${reason}); not restarting it. Fix the cause, then run "Codex: Restart Server".`;
      this.deps.log(message);
      this.setState({ kind: "failed", message });
      return;
    }
    this.deps.log(`codex-lsp stopped (${reason}); restarting in ${Math.round(delay / 1000)} s`);
    this.setState({ kind: "restarting", inMs: delay, reason });
    this.timer = this.deps.clock.setTimeout(() => {
      this.timer = undefined;
      void this.start();
    }, delay);
  }

  private async release(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) {
      try {
        await server.dispose();
      } catch (error) {
        this.deps.log(`stopping codex-lsp: ${reasonOf(error)}`);
      }
    }
  }

  private cancelTimer(): void {
    this.timer?.dispose();
    this.timer = undefined;
  }

  private setState(state: ServerState): void {
    this.state = state;
    this.deps.onState(state);
    if (state.kind !== "starting") {
      const waiters = this.waiters;
      this.waiters = [];
      waiters.forEach((resolve) => resolve());
    }
  }
}

function describe(source: ServerSource): string {
  switch (source) {
    case "setting":
      return "codex.server.path";
    case "python":
      return "in the selected Python environment";
    case "path":
      return "on PATH";
  }
}
