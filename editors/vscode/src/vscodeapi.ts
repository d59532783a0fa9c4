/**
 * Everything that touches VS Code or the language client lives here, as small adapters onto the interfaces of
 * `host.ts`; the rest of the extension is plain TypeScript that unit tests run without VS Code.
 */
import * as vscode from "vscode";
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  RevealOutputChannelOn,
  State,
  TransportKind,
  WorkDoneProgress as LspWorkDoneProgress,
  type ConfigurationParams,
  type ExecuteCommandSignature,
  type LanguageClientOptions,
} from "vscode-languageclient/node";
import type { Clock, Connection, Disposable, EditorSnapshot, Log, ProgressNotification, StatusView, Ui } from "./host";
import type { Diagnostic, Range } from "./protocol";
import { SECTION, serverSettings } from "./settings";
import { connectionFailed, type ManagedServer } from "./supervisor";
import type { FromWebview, ToWebview } from "./transcriptView";

export type ExtensionContext = vscode.ExtensionContext;

export const clock: Clock = {
  now: () => Date.now(),
  setTimeout(callback, ms) {
    const handle = setTimeout(callback, ms);
    return { dispose: () => clearTimeout(handle) };
  },
};

// -- the window ------------------------------------------------------------------------------------------

/** How long a status bar message stays. */
const FLASH_MS = 5000;

export const ui: Ui = {
  inputBox: (options) => Promise.resolve(vscode.window.showInputBox({ ...options, ignoreFocusOut: true })),
  info: (message, ...actions) => Promise.resolve(vscode.window.showInformationMessage(message, ...actions)),
  warning: (message, ...actions) => Promise.resolve(vscode.window.showWarningMessage(message, ...actions)),
  error: (message, ...actions) => Promise.resolve(vscode.window.showErrorMessage(message, ...actions)),
  pick: (items, placeHolder) => Promise.resolve(vscode.window.showQuickPick(items, { placeHolder })),
  withProgress: (title, task) =>
    Promise.resolve(
      vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title, cancellable: true },
        (progress, token) => {
          const notification: ProgressNotification = {
            report: (message) => progress.report({ message }),
            onCancel: (listener) => {
              token.onCancellationRequested(listener);
            },
          };
          return task(notification);
        },
      ),
    ),
  copy: (text) => Promise.resolve(vscode.env.clipboard.writeText(text)),
  openUrl: (url) => Promise.resolve(vscode.env.openExternal(vscode.Uri.parse(url))),
  flash: (message) => {
    vscode.window.setStatusBarMessage(message, FLASH_MS);
  },
};

export function outputChannel(): vscode.LogOutputChannel {
  return vscode.window.createOutputChannel("Codex", { log: true });
}

export function logOf(channel: vscode.LogOutputChannel): Log {
  return { appendLine: (line) => channel.info(line), show: () => channel.show(true) };
}

export function statusBarItem(context: ExtensionContext): { show(view: StatusView): void } {
  const item = vscode.window.createStatusBarItem("codex.status", vscode.StatusBarAlignment.Right, 100);
  item.name = "Codex";
  context.subscriptions.push(item);
  item.show();
  return {
    show(view) {
      item.text = view.text;
      item.tooltip = view.tooltip;
      item.command = view.command;
      item.backgroundColor = view.error ? new vscode.ThemeColor("statusBarItem.errorBackground") : undefined;
    },
  };
}

export function registerCommand(context: ExtensionContext, id: string, run: () => unknown): void {
  context.subscriptions.push(vscode.commands.registerCommand(id, run));
}

export function runCommand(id: string, ...args: unknown[]): Promise<unknown> {
  return Promise.resolve(vscode.commands.executeCommand(id, ...args));
}

// -- the editor ------------------------------------------------------------------------------------------

function lspRange(range: vscode.Range): Range {
  return {
    start: { line: range.start.line, character: range.start.character },
    end: { line: range.end.line, character: range.end.character },
  };
}

/** A VS Code diagnostic as LSP has it (severity 1-4, a plain code). */
export function lspDiagnostic(d: vscode.Diagnostic): Diagnostic {
  const result: Diagnostic = { range: lspRange(d.range), message: d.message, severity: (d.severity + 1) as Diagnostic["severity"] };
  if (d.source) {
    result.source = d.source;
  }
  if (d.code !== undefined) {
    result.code = typeof d.code === "object" ? d.code.value : d.code;
    if (typeof d.code === "object") {
      result.codeDescription = { href: d.code.target.toString() };
    }
  }
  return result;
}

/** The active editor on a file, or undefined (no editor, or an untitled or virtual document). */
export function editorSnapshot(): EditorSnapshot | undefined {
  const editor = vscode.window.activeTextEditor;
  const document = editor?.document;
  if (!editor || !document || document.uri.scheme !== "file") {
    return undefined;
  }
  return {
    uri: document.uri.toString(),
    folderUri: vscode.workspace.getWorkspaceFolder(document.uri)?.uri.toString(),
    version: document.version,
    cursor: { line: editor.selection.active.line, character: editor.selection.active.character },
    selection: editor.selection.isEmpty ? undefined : lspRange(editor.selection),
    visibleRanges: editor.visibleRanges.map(lspRange),
    diagnostics: vscode.languages.getDiagnostics(document.uri).map(lspDiagnostic),
  };
}

// -- settings and environment ----------------------------------------------------------------------------

export function setting<T>(key: string, scope?: vscode.Uri): T | undefined {
  return vscode.workspace.getConfiguration(SECTION, scope).get<T>(key);
}

export function onSettingsChanged(context: ExtensionContext, listener: (affects: (key: string) => boolean) => void): void {
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((event) => listener((key) => event.affectsConfiguration(key))),
  );
}

export function firstWorkspaceFolder(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

/** The part of the Python extension's API used here (its `environments` API). */
interface PythonApi {
  environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri): { path: string };
    resolveEnvironment(path: { path: string } | string): Promise<{ executable: { uri?: vscode.Uri } } | undefined>;
    onDidChangeActiveEnvironmentPath?: vscode.Event<unknown>;
  };
}

async function pythonApi(): Promise<PythonApi | undefined> {
  const extension = vscode.extensions.getExtension<PythonApi>("ms-python.python");
  if (!extension) {
    return undefined;
  }
  return extension.isActive ? extension.exports : await extension.activate();
}

/** The interpreter of the Python environment selected for the first folder; undefined without the Python
 * extension (or when it cannot say). */
export async function pythonInterpreter(): Promise<string | undefined> {
  const environments = (await pythonApi())?.environments;
  if (!environments) {
    return undefined;
  }
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const resolved = await environments.resolveEnvironment(environments.getActiveEnvironmentPath(folder));
  return resolved?.executable.uri?.fsPath;
}

/** Call `listener` when the user selects another Python environment (when the Python extension is there). */
export async function onPythonEnvironmentChanged(context: ExtensionContext, listener: () => void): Promise<void> {
  try {
    const event = (await pythonApi())?.environments?.onDidChangeActiveEnvironmentPath;
    if (event) {
      context.subscriptions.push(event(listener));
    }
  } catch {
    // The Python extension failed to activate: there is no environment to follow.
  }
}

// -- the language client ---------------------------------------------------------------------------------

export interface ClientHooks {
  /** Every server command VS Code runs (the server's code actions): the extension may run it its own way. */
  executeCommand(command: string, args: unknown[], next: (command: string, args: unknown[]) => Promise<unknown>): Promise<unknown>;
  /** Every `codex/*` notification. */
  notification(method: string, params: unknown): void;
  notifications: readonly string[];
}

function connectionOf(client: LanguageClient): Connection {
  return {
    request: <R>(method: string, params: unknown) => client.sendRequest<R>(method, params),
    notify: (method, params) => client.sendNotification(method, params),
    onProgress: (token, handler) =>
      client.onProgress(LspWorkDoneProgress.type, token, (value) => handler(value)),
  };
}

function settingsFor(scopeUri: string | undefined): Record<string, unknown> {
  const scope = scopeUri ? vscode.Uri.parse(scopeUri) : undefined;
  return serverSettings((key) => setting(key, scope));
}

/** A language client for `command --stdio`; `exited` is called when the server stops unasked. */
export function languageClient(
  command: string,
  channel: vscode.LogOutputChannel,
  hooks: ClientHooks,
  exited: (reason: string) => void,
): { server: ManagedServer; connection: () => Connection | undefined } {
  const options: LanguageClientOptions = {
    documentSelector: [{ scheme: "file" }],
    outputChannel: channel,
    revealOutputChannelOn: RevealOutputChannelOn.Never,
    initializationOptions: () => serverSettings((key) => setting(key)),
    synchronize: { configurationSection: SECTION },
    errorHandler: {
      error: (error, _message, count) => ({
        action:
          connectionFailed(count, error.message, exited) === "continue" ? ErrorAction.Continue : ErrorAction.Shutdown,
        handled: true,
      }),
      closed: () => {
        exited("the process exited");
        return { action: CloseAction.DoNotRestart, handled: true };
      },
    },
    middleware: {
      executeCommand: (command: string, args: unknown[], next: ExecuteCommandSignature) =>
        hooks.executeCommand(command, args, (c, a) => Promise.resolve(next(c, a))),
      workspace: {
        configuration: async (params: ConfigurationParams, token, next) => {
          const answers = await next(params, token);
          if (!Array.isArray(answers)) {
            return answers; // an error
          }
          const values: unknown[] = answers;
          return params.items.map((item, index) =>
            item.section === SECTION ? settingsFor(item.scopeUri ?? undefined) : values[index],
          );
        },
        // An empty notification: the server reads the section again through workspace/configuration.
        didChangeConfiguration: (_sections, next) => next(undefined),
      },
    },
  };
  const client = new LanguageClient(
    "codex",
    "Codex",
    { command, transport: TransportKind.stdio, options: { env: process.env } },
    options,
  );
  // The client sends these capabilities at initialize: the server streams codex/* only to those who ask.
  client.registerFeature({
    fillClientCapabilities: (capabilities) => {
      capabilities.experimental = { ...(capabilities.experimental as object | undefined), codex: { streaming: true } };
    },
    initialize: () => undefined,
    getState: () => ({ kind: "static" }),
    clear: () => undefined,
  });
  const listeners: Disposable[] = hooks.notifications.map((method) =>
    client.onNotification(method, (params: unknown) => hooks.notification(method, params)),
  );
  return {
    server: {
      start: () => client.start(),
      dispose: async () => {
        listeners.forEach((l) => l.dispose());
        if (client.state === State.Starting) {
          // A starting client cannot be stopped (and would register the server's commands after): let it
          // finish starting first.
          await client.start().catch(() => undefined);
        }
        if (client.state === State.Running) {
          await client.dispose(2000);
        }
      },
    },
    connection: () => (client.isRunning() ? connectionOf(client) : undefined),
  };
}

// -- the transcript view ---------------------------------------------------------------------------------

export const TRANSCRIPT_VIEW = "codex.transcript";

export interface TranscriptPage {
  html(webview: { cspSource: string; asUri(relative: string): string }): string;
  /** A page was created: `post` sends to it. */
  attached(post: (message: ToWebview) => void): void;
  detached(): void;
  received(message: FromWebview): void;
}

export function registerTranscriptView(context: ExtensionContext, page: TranscriptPage): { reveal(): void } {
  let view: vscode.WebviewView | undefined;
  const provider: vscode.WebviewViewProvider = {
    resolveWebviewView(webviewView) {
      view = webviewView;
      const webview = webviewView.webview;
      const media = vscode.Uri.joinPath(context.extensionUri, "media");
      webview.options = { enableScripts: true, localResourceRoots: [media] };
      webview.html = page.html({
        cspSource: webview.cspSource,
        asUri: (relative) => webview.asWebviewUri(vscode.Uri.joinPath(media, relative)).toString(),
      });
      page.attached((message) => void webview.postMessage(message));
      webview.onDidReceiveMessage((message: FromWebview) => page.received(message));
      webviewView.onDidDispose(() => {
        view = undefined;
        page.detached();
      });
    },
  };
  context.subscriptions.push(vscode.window.registerWebviewViewProvider(TRANSCRIPT_VIEW, provider));
  return {
    reveal() {
      if (view) {
        view.show(true);
        return;
      }
      // The view was never opened: opening it focuses it, so give the editor its focus back.
      void Promise.resolve(vscode.commands.executeCommand(`${TRANSCRIPT_VIEW}.focus`)).then(() =>
        vscode.commands.executeCommand("workbench.action.focusActiveEditorGroup"),
      );
    },
  };
}
