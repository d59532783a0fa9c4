/**
 * The status bar item, from the server's state and the running turns: idle (click for the status), a turn
 * running (its latest line; click to cancel), or an error (click for the server log).
 */
import type { StatusView } from "./host";
import type { ServerState } from "./supervisor";
import { shorten } from "./turns";
import { Command } from "./ids";

export interface StatusInput {
  server: ServerState;
  running: number;
  line?: string;
  lastError?: string;
}

const LINE_LENGTH = 40;

export function statusView({ server, running, line, lastError }: StatusInput): StatusView {
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
