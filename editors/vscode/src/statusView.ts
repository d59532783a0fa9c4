/**
 * The status bar item, from the server's state, the running turns and the sign-in: idle (click for the
 * status), a turn running (its latest line; click to cancel), a login waiting for the user (its code; click to
 * copy it and open the page), or an error (click for the server log). Idle or after an error, the tooltip
 * also says who the requests are signed in as.
 */
import { describeAccount, type PendingLogin } from "./account";
import type { StatusView } from "./host";
import type { Account } from "./protocol";
import type { ServerState } from "./supervisor";
import { shorten } from "./turns";
import { Command } from "./ids";

export interface StatusInput {
  server: ServerState;
  running: number;
  line?: string;
  lastError?: string;
  /** The account the server last reported, if it did. */
  account?: Account;
  login?: PendingLogin;
}

const LINE_LENGTH = 40;

export function statusView(input: StatusInput): StatusView {
  const view = baseView(input);
  // Idle or after a failed turn, not while a turn runs or a login waits: those tooltips are about them.
  const settled = input.server.kind === "running" && input.running === 0 && !input.login;
  if (settled && input.account) {
    view.tooltip += `\n${describeAccount(input.account)}`;
  }
  return view;
}

function loginView(login: PendingLogin): StatusView {
  if (login.userCode) {
    return {
      text: `$(key) Codex: ${login.userCode}`,
      tooltip: `Codex sign-in: enter ${login.userCode} at ${login.url}. Click to copy the code and open the page.`,
      command: Command.continueSignIn,
      error: false,
    };
  }
  return {
    text: "$(key) Codex: signing in…",
    tooltip: `Codex sign-in: finish it in your browser. Click to open the page again (${login.url}).`,
    command: Command.continueSignIn,
    error: false,
  };
}

function baseView({ server, running, line, lastError, login }: StatusInput): StatusView {
  switch (server.kind) {
    case "stopped":
      return { text: "$(circle-slash) Codex", tooltip: "codex-lsp is not running. Click to start it.", command: Command.restart, error: false };
    case "starting":
      return { text: "$(loading~spin) Codex", tooltip: "Starting codex-lsp…", command: Command.showLog, error: false };
    case "restarting":
      return {
        text: "$(debug-restart) Codex",
        tooltip: `codex-lsp stopped (${server.reason}); restarting in ${Math.round(server.inMs / 1000)} s. Click for its log.`,
        command: Command.showLog,
        error: true,
      };
    case "failed":
      return { text: "$(error) Codex", tooltip: `${server.message} Click for the server log.`, command: Command.showLog, error: true };
    case "running":
      break;
  }
  if (running > 0) {
    const what = running > 1 ? `${running} turns` : shorten(line || "working…", LINE_LENGTH);
    return {
      text: `$(sync~spin) Codex: ${what}`,
      tooltip: "Codex is working. Click to cancel.",
      command: Command.cancel,
      error: false,
    };
  }
  if (login) {
    return loginView(login);
  }
  if (lastError) {
    return { text: "$(error) Codex", tooltip: `The last turn failed: ${lastError}. Click for the server log.`, command: Command.showLog, error: true };
  }
  return {
    text: "$(sparkle) Codex",
    tooltip: "Codex is ready: “Codex: Ask…” (Ctrl+Alt+K) or “Fix with Codex” on a problem. Click for its status.",
    command: Command.showStatus,
    error: false,
  };
}
