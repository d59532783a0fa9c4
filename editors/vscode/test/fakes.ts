/** Plain-object stand-ins for VS Code and the language client (the interfaces of src/host.ts). */
import type { Clock, Connection, Disposable, EditorSnapshot, ProgressNotification, Ui } from "../src/host";
import type { WorkDoneProgress } from "../src/protocol";

export interface Sent {
  method: string;
  params: unknown;
}

/** A connection that records what is sent and answers requests with `answer`. */
export class FakeConnection implements Connection {
  requests: Sent[] = [];
  notifications: Sent[] = [];
  progress = new Map<string, (value: WorkDoneProgress) => void>();
  answer: (method: string, params: unknown) => Promise<unknown> = () => Promise.resolve({});

  request<R>(method: string, params: unknown): Promise<R> {
    this.requests.push({ method, params });
    return this.answer(method, params) as Promise<R>;
  }

  notify(method: string, params: unknown): Promise<void> {
    this.notifications.push({ method, params });
    return Promise.resolve();
  }

  onProgress(token: string, handler: (value: WorkDoneProgress) => void): Disposable {
    this.progress.set(token, handler);
    return { dispose: () => this.progress.delete(token) };
  }

  /** The `arguments[0]` of every `workspace/executeCommand` sent, by command. */
  commands(): Array<{ command: string; args: unknown; workDoneToken?: string }> {
    return this.requests
      .filter((r) => r.method === "workspace/executeCommand")
      .map((r) => {
        const p = r.params as { command: string; arguments: unknown[]; workDoneToken?: string };
        return { command: p.command, args: p.arguments[0], workDoneToken: p.workDoneToken };
      });
  }
}

/** A window that records messages, answers input boxes from a queue and lets a test press Cancel. */
export class FakeUi implements Ui {
  messages: Array<{ level: "info" | "warning" | "error"; text: string }> = [];
  inputs: Array<string | undefined> = [];
  answers: Array<string | undefined> = [];
  progressTitles: string[] = [];
  reports: string[] = [];
  /** The options of every input box shown, and the labels of every pick offered. */
  inputBoxes: Array<{ title: string; password?: boolean }> = [];
  offered: string[][] = [];
  clipboard: string[] = [];
  opened: string[] = [];
  flashes: string[] = [];
  /** The buttons of each message, in the order of `messages`. */
  buttons: string[][] = [];
  private cancels: Array<() => void> = [];

  inputBox(options: { title: string; password?: boolean }): Promise<string | undefined> {
    this.inputBoxes.push({ title: options.title, password: options.password });
    return Promise.resolve(this.inputs.shift());
  }
  info(text: string, ...actions: string[]): Promise<string | undefined> {
    this.messages.push({ level: "info", text });
    this.buttons.push(actions);
    return Promise.resolve(this.answers.shift());
  }
  warning(text: string, ...actions: string[]): Promise<string | undefined> {
    this.messages.push({ level: "warning", text });
    this.buttons.push(actions);
    return Promise.resolve(this.answers.shift());
  }
  error(text: string, ...actions: string[]): Promise<string | undefined> {
    this.messages.push({ level: "error", text });
    this.buttons.push(actions);
    return Promise.resolve(this.answers.shift());
  }
  pick<T extends { label: string }>(items: T[]): Promise<T | undefined> {
    this.offered.push(items.map((i) => i.label));
    const wanted = this.answers.shift();
    return Promise.resolve(items.find((i) => i.label === wanted));
  }
  withProgress<T>(title: string, task: (progress: ProgressNotification) => Promise<T>): Promise<T> {
    this.progressTitles.push(title);
    return task({
      report: (message) => this.reports.push(message),
      onCancel: (listener) => this.cancels.push(listener),
    });
  }
  copy(text: string): Promise<void> {
    this.clipboard.push(text);
    return Promise.resolve();
  }
  openUrl(url: string): Promise<boolean> {
    this.opened.push(url);
    return Promise.resolve(true);
  }
  flash(message: string): void {
    this.flashes.push(message);
  }
  /** Press Cancel on every progress notification shown. */
  pressCancel(): void {
    this.cancels.forEach((listener) => listener());
  }
}

/** A clock whose time moves only when the test says so. */
export class FakeClock implements Clock {
  time = 0;
  private timers: Array<{ at: number; callback: () => void; cancelled: boolean }> = [];

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): Disposable {
    const timer = { at: this.time + ms, callback, cancelled: false };
    this.timers.push(timer);
    return { dispose: () => (timer.cancelled = true) };
  }

  /** Move the time on by `ms`, running the timers that come due. */
  advance(ms: number): void {
    this.time += ms;
    const due = this.timers.filter((t) => !t.cancelled && t.at <= this.time);
    this.timers = this.timers.filter((t) => !due.includes(t));
    due.forEach((t) => t.callback());
  }

  get pending(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }
}

/** Let promise callbacks run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) {
    await new Promise((resolve) => setImmediate(resolve));
  }
}

export function editor(overrides: Partial<EditorSnapshot> = {}): EditorSnapshot {
  return {
    uri: "file:///work/app.py",
    folderUri: "file:///work",
    version: 3,
    cursor: { line: 0, character: 0 },
    visibleRanges: [{ start: { line: 0, character: 0 }, end: { line: 40, character: 0 } }],
    diagnostics: [],
    ...overrides,
  };
}
