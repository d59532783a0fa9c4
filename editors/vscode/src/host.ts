/**
 * The small surface the extension's logic needs from VS Code and from the language client, as interfaces.
 * `vscodeapi.ts` implements them on the real `vscode` module; unit tests implement them with plain objects,
 * so everything else runs under Node's test runner without VS Code.
 */
import type { Diagnostic, Position, Range, WorkDoneProgress } from "./protocol";

export interface Disposable {
  dispose(): void;
}

/** The running language client's connection to codex-lsp. */
export interface Connection {
  request<R>(method: string, params: unknown): Promise<R>;
  notify(method: string, params: unknown): Promise<void>;
  /** Listen to `$/progress` for one work-done token. */
  onProgress(token: string, handler: (value: WorkDoneProgress) => void): Disposable;
}

/** A notification with a progress bar and a Cancel button, while a task runs. */
export interface ProgressNotification {
  report(message: string): void;
  /** Called once when the user presses Cancel. */
  onCancel(listener: () => void): void;
}

export interface Ui {
  /** `password`: the text typed is hidden. */
  inputBox(options: { title: string; prompt: string; placeHolder?: string; password?: boolean }): Promise<string | undefined>;
  info(message: string, ...actions: string[]): Promise<string | undefined>;
  warning(message: string, ...actions: string[]): Promise<string | undefined>;
  error(message: string, ...actions: string[]): Promise<string | undefined>;
  pick<T extends { label: string }>(items: T[], placeHolder: string): Promise<T | undefined>;
  withProgress<T>(title: string, task: (progress: ProgressNotification) => Promise<T>): Promise<T>;
  /** Put `text` on the clipboard. */
  copy(text: string): Promise<void>;
  /** Open `url` in the user's browser; false when the user or the editor declined. */
  openUrl(url: string): Promise<boolean>;
  /** A short-lived message in the status bar (no notification). */
  flash(message: string): void;
}

/** The active text editor as the commands need it, in LSP terms (UTF-16 positions). */
export interface EditorSnapshot {
  uri: string;
  /** The workspace folder holding the document, if any (threads are per folder). */
  folderUri?: string;
  version: number;
  cursor: Position;
  /** The selection; absent when nothing is selected. */
  selection?: Range;
  /** The lines on screen. */
  visibleRanges: Range[];
  /** Every source's diagnostics for the document. */
  diagnostics: Diagnostic[];
}

export interface StatusView {
  text: string;
  tooltip: string;
  /** The extension command a click runs. */
  command: string;
  error: boolean;
}

export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): Disposable;
}

export interface Log {
  appendLine(line: string): void;
  show(): void;
}
