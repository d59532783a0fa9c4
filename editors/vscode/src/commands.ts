/**
 * The palette commands: what each sends to codex-lsp and what it tells the user. The client stays thin:
 * Ask forwards `{prompt, uri, version, range, diagnostics}` (the selection, and the diagnostics in view or in
 * the selection) and Fix Problems in File every diagnostic of the file, from every source; the server does the
 * rest and streams it back.
 *
 * Ask and Fix Problems in File continue the conversation of the workspace folder (the thread of the last
 * turn they ran there); New Thread starts a fresh one. The server's quick fixes run on threads of their own.
 */
import { describeAccount, needsSignIn, shownFields } from "./account";
import type { Connection, EditorSnapshot, Log, Ui } from "./host";
import { ServerCommand, type Account, type Diagnostic, type Range, type StatusAccount, type TurnResult } from "./protocol";
import type { Turns } from "./turns";

export interface CommandsDeps {
  ui: Ui;
  turns: Turns;
  /** The server's connection, once a starting server is up; undefined when it is not running. */
  connection(): Promise<Connection | undefined>;
  editor(): EditorSnapshot | undefined;
  log: Log;
  /** Where the server was found, for Show Status. */
  serverDescription(): string;
  /** The sign-in, for Show Status: the account it describes, and its Sign In button. */
  account: { load(): Promise<Account | undefined>; signIn(): Promise<void> };
}

type Position = Range["start"];

function before(a: Position, b: Position): boolean {
  return a.line < b.line || (a.line === b.line && a.character < b.character);
}

/** Whether two ranges share a character, or an empty one touches the other. */
export function overlaps(a: Range, b: Range): boolean {
  return !before(a.end, b.start) && !before(b.end, a.start);
}

function basename(uri: string): string {
  const last = uri.split("/").pop() ?? uri;
  return decodeURIComponent(last);
}

/** The diagnostics the user can see: in the selection if there is one, else in the visible lines. */
export function diagnosticsInView(editor: EditorSnapshot): Diagnostic[] {
  const regions = editor.selection ? [editor.selection] : editor.visibleRanges;
  return editor.diagnostics.filter((d) => regions.some((r) => overlaps(d.range, r)));
}

/** The arguments of `codex.ask`. */
export function askArguments(prompt: string, editor: EditorSnapshot | undefined, threadId: string | undefined): Record<string, unknown> {
  const args: Record<string, unknown> = { prompt };
  if (editor) {
    args.uri = editor.uri;
    args.version = editor.version;
    if (editor.selection) {
      args.range = editor.selection;
    }
    const diagnostics = diagnosticsInView(editor);
    if (diagnostics.length > 0) {
      args.diagnostics = diagnostics;
    }
  }
  if (threadId) {
    args.threadId = threadId;
  }
  return args;
}

/** The arguments of `codex.fixDiagnostics` for every problem in the file. */
export function fixFileArguments(editor: EditorSnapshot, threadId: string | undefined): Record<string, unknown> {
  const args: Record<string, unknown> = { uri: editor.uri, version: editor.version, diagnostics: editor.diagnostics };
  if (threadId) {
    args.threadId = threadId;
  }
  return args;
}

/** The title of a turn command, for the progress notification and the status bar. */
export function turnTitle(command: string, args: unknown): string {
  const data = (typeof args === "object" && args !== null ? args : {}) as {
    prompt?: unknown;
    diagnostics?: Array<{ message?: unknown }>;
  };
  if (typeof data.prompt === "string" && data.prompt.trim()) {
    return data.prompt;
  }
  const first = Array.isArray(data.diagnostics) ? data.diagnostics[0] : undefined;
  if (command === ServerCommand.fixDiagnostics && first && typeof first.message === "string") {
    return `Fix: ${first.message}`;
  }
  return "Fix the problems in this file";
}

export interface ServerStatus {
  version?: string;
  model?: string;
  provider?: string;
  transport?: string;
  connection?: string;
  keyFound?: boolean;
  keySource?: string | null;
  configError?: string;
  editMode?: string;
  runningTurns?: string[];
  account?: StatusAccount;
}

/** `codex.status` in one line, then who the requests are signed in as when `account` (`codex.account`) is
 * known, else whether a key was found (never the key: the server does not send it). */
export function statusSummary(status: ServerStatus, server: string, account?: Account): string {
  const head = `Codex ${status.version ?? "?"} (${server})`;
  if (status.configError) {
    return `${head}: not configured: ${status.configError}`;
  }
  const running = status.runningTurns?.length ?? 0;
  const connection = `${status.model ?? "?"} via ${status.provider ?? "?"}, ${status.transport ?? "?"} (${status.connection ?? "?"})`;
  const edits = `edits: ${status.editMode ?? "auto"}; ${running} turn${running === 1 ? "" : "s"} running.`;
  if (account) {
    return `${head}: ${connection}; ${edits} ${describeAccount(account)}`;
  }
  const key = status.keyFound ? `key found${status.keySource ? ` (${status.keySource})` : ""}` : "no key found";
  return `${head}: ${connection}; ${key}; ${edits}`;
}

/** `codex.status` for the log, its account reduced to the fields that may be shown. */
export function statusDetails(status: ServerStatus): string {
  const shown: Record<string, unknown> = { ...status };
  if (status.account) {
    shown.account = shownFields(status.account);
  }
  return JSON.stringify(shown, null, 2);
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class Commands {
  /** The thread each workspace folder's conversation continues ("" for files outside every folder). */
  private readonly threads = new Map<string, string>();

  constructor(private readonly deps: CommandsDeps) {}

  async ask(): Promise<void> {
    const prompt = await this.deps.ui.inputBox({
      title: "Ask Codex",
      prompt: this.deps.editor()?.selection ? "About the selection (it is sent as context)" : "What should Codex do?",
      placeHolder: "e.g. add type hints to this function",
    });
    if (!prompt?.trim()) {
      return;
    }
    const editor = this.deps.editor();
    const key = editor?.folderUri ?? "";
    const result = await this.deps.turns.run(ServerCommand.ask, askArguments(prompt.trim(), editor, this.threads.get(key)), prompt);
    this.remember(key, result);
  }

  async fixFile(): Promise<void> {
    const editor = this.deps.editor();
    if (!editor) {
      void this.deps.ui.info("Codex: open a file first.");
      return;
    }
    if (editor.diagnostics.length === 0) {
      void this.deps.ui.info(`Codex: no problems in ${basename(editor.uri)}.`);
      return;
    }
    const key = editor.folderUri ?? "";
    const count = editor.diagnostics.length;
    const title = `Fix ${count} problem${count === 1 ? "" : "s"} in ${basename(editor.uri)}`;
    const result = await this.deps.turns.run(ServerCommand.fixDiagnostics, fixFileArguments(editor, this.threads.get(key)), title);
    this.remember(key, result);
  }

  async cancel(): Promise<void> {
    const running = this.deps.turns.running;
    const stopped = await this.deps.turns.cancelAll().catch((error: unknown) => {
      void this.deps.ui.error(`Codex: cancelling failed: ${reasonOf(error)}`);
      return undefined;
    });
    if (running === 0 && stopped === 0) {
      void this.deps.ui.info("Codex: no turn is running.");
    }
  }

  async showStatus(): Promise<void> {
    const [status, account] = await Promise.all([
      this.request<ServerStatus>(ServerCommand.status, {}),
      this.deps.account.load(),
    ]);
    if (!status) {
      return;
    }
    const details = "Show Details";
    const signIn = "Sign In";
    const actions = account && needsSignIn(account) ? [signIn, details] : [details];
    const answer = await this.deps.ui.info(statusSummary(status, this.deps.serverDescription(), account), ...actions);
    if (answer === signIn) {
      await this.deps.account.signIn();
    } else if (answer === details) {
      this.deps.log.appendLine(`codex.status: ${statusDetails(status)}`);
      this.deps.log.show();
    }
  }

  async newThread(): Promise<void> {
    const editor = this.deps.editor();
    const started = await this.request<{ threadId: string }>(ServerCommand.newThread, editor ? { uri: editor.uri } : {});
    if (!started) {
      return;
    }
    this.threads.set(editor?.folderUri ?? "", started.threadId);
    void this.deps.ui.info("Codex: a new thread is started; the next Ask begins it.");
  }

  /** A server command that answers at once; undefined (the user told why) when it failed. */
  async request<R>(command: string, args: unknown): Promise<R | undefined> {
    const connection = await this.deps.connection();
    if (!connection) {
      void this.deps.ui.error("Codex: the codex-lsp server is not running (see “Codex: Show Server Log”).");
      return undefined;
    }
    try {
      return await connection.request<R>("workspace/executeCommand", { command, arguments: [args] });
    } catch (error) {
      void this.deps.ui.error(`Codex: ${reasonOf(error)}`);
      return undefined;
    }
  }

  private remember(key: string, result: TurnResult | undefined): void {
    if (result?.threadId) {
      this.threads.set(key, result.threadId);
    } else {
      this.threads.delete(key); // the turn could not run, perhaps on a thread the server no longer has
    }
  }
}
