/**
 * The extension's entry point: wires the client logic (supervisor, turns, transcript, commands, status bar)
 * to VS Code through `vscodeapi.ts`.
 */
import { promises as fs, constants as fsConstants } from "node:fs";
import * as os from "node:os";
import { SignIn } from "./account";
import { Commands, turnTitle } from "./commands";
import type { Connection } from "./host";
import { Command } from "./ids";
import { NOTIFICATIONS, TURN_COMMANDS } from "./protocol";
import { resolveServer } from "./serverCommand";
import { Review } from "./review";
import { needsRestart } from "./settings";
import { statusView } from "./statusView";
import { Supervisor, type ServerState } from "./supervisor";
import { Transcript } from "./transcript";
import { TranscriptFeed, makeNonce, transcriptHtml } from "./transcriptView";
import { Turns } from "./turns";
import * as vsc from "./vscodeapi";

let supervisor: Supervisor | undefined;

async function isExecutable(file: string): Promise<boolean> {
  try {
    const stat = await fs.stat(file);
    if (!stat.isFile()) {
      return false;
    }
    await fs.access(file, process.platform === "win32" ? fsConstants.F_OK : fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function describeServer(state: ServerState): string {
  return state.kind === "running" ? state.command : state.kind;
}

export function activate(context: vsc.ExtensionContext): void {
  const channel = vsc.outputChannel();
  context.subscriptions.push(channel);
  const log = vsc.logOf(channel);
  const status = vsc.statusBarItem(context);
  const transcript = new Transcript();
  const feed = new TranscriptFeed(transcript, vsc.clock);
  let current: () => Connection | undefined = () => undefined;
  const connection = async (): Promise<Connection | undefined> => {
    await supervisor?.settled();
    return current();
  };

  const view = vsc.registerTranscriptView(context, {
    html: (webview) =>
      transcriptHtml({
        cspSource: webview.cspSource,
        nonce: makeNonce(),
        scriptUri: webview.asUri("transcript.js"),
        styleUri: webview.asUri("transcript.css"),
      }),
    attached: (post) => feed.attach(post),
    detached: () => feed.detach(),
    received: (message) => {
      if (message.type === "ready") {
        feed.flush();
      }
    },
  });

  const refresh = (): void =>
    status.show(
      statusView({
        server: supervisor?.state ?? { kind: "stopped" },
        running: turns.running,
        line: turns.line,
        lastError: turns.lastError,
        account: signIn.current,
        login: signIn.login,
      }),
    );
  const turns = new Turns({
    connection,
    ui: vsc.ui,
    changed: refresh,
    turnStarting: () => view.reveal(),
    // The sign-in may have changed during the turn (a refresh, a refusal, `codex login` in a terminal).
    turnEnded: () => void signIn.load(),
  });
  const signIn: SignIn = new SignIn({
    ui: vsc.ui,
    connection,
    request: (command, args) => commands.request(command, args),
    changed: refresh,
    log,
  });
  const commands = new Commands({
    ui: vsc.ui,
    turns,
    connection,
    editor: vsc.editorSnapshot,
    log,
    serverDescription: () => describeServer(supervisor?.state ?? { kind: "stopped" }),
    account: signIn,
  });

  const review = new Review({ ui: vsc.ui, editor: vsc.editorSnapshot, request: (command, args) => commands.request(command, args) });

  const hooks: vsc.ClientHooks = {
    // The server's quick fixes and selection actions run as turns of ours: progress with Cancel, status bar.
    executeCommand: (command, args, next) =>
      TURN_COMMANDS.has(command) ? turns.run(command, args[0], turnTitle(command, args[0])) : next(command, args),
    notification: (method, params) => signIn.handle(method, params) || transcript.handle(method, params),
    notifications: NOTIFICATIONS,
  };

  supervisor = new Supervisor({
    resolve: async () => {
      const lookup = {
        configured: vsc.setting<string>("server.path") ?? "",
        pythonInterpreter: vsc.pythonInterpreter,
        pathVariable: process.env.PATH ?? "",
        platform: process.platform,
        home: os.homedir(),
        workspaceFolder: vsc.firstWorkspaceFolder(),
        isExecutable,
      };
      const resolution = await resolveServer(lookup);
      if ("error" in resolution) {
        log.appendLine(`PATH searched: ${lookup.pathVariable}`);
      }
      return resolution;
    },
    create: (command, exited) => {
      const client = vsc.languageClient(command, channel, hooks, exited);
      current = client.connection;
      return client.server;
    },
    clock: vsc.clock,
    onState: (state) => {
      // Every server start reads the account afresh; a stopped server's account and login are gone.
      signIn.forget();
      if (state.kind === "running") {
        void signIn.load();
      }
    },
    log: (line) => log.appendLine(line),
  });

  const register = (id: string, run: () => unknown): void => vsc.registerCommand(context, id, run);
  register(Command.ask, () => commands.ask());
  register(Command.fixFile, () => commands.fixFile());
  register(Command.cancel, () => commands.cancel());
  register(Command.showStatus, () => commands.showStatus());
  register(Command.newThread, () => commands.newThread());
  register(Command.signIn, () => signIn.signIn());
  register(Command.signOut, () => signIn.signOut());
  register(Command.continueSignIn, () => signIn.continueSignIn());
  register(Command.showTranscript, () => view.reveal());
  register(Command.showLog, () => log.show());
  register(Command.restart, () => (supervisor as Supervisor).restart());
  register(Command.acceptHunk, () => review.decideHunk("accept"));
  register(Command.rejectHunk, () => review.decideHunk("reject"));
  register(Command.applyProposal, () => review.decideProposal("apply"));
  register(Command.discardProposal, () => review.decideProposal("discard"));

  vsc.onSettingsChanged(context, (affects) => {
    if (needsRestart(affects)) {
      void supervisor?.restart();
    }
  });
  void vsc.onPythonEnvironmentChanged(context, () => {
    if (!vsc.setting<string>("server.path")) {
      void supervisor?.restart();
    }
  });
  refresh();
  void supervisor.start();
}

export async function deactivate(): Promise<void> {
  await supervisor?.stop();
  supervisor = undefined;
}
