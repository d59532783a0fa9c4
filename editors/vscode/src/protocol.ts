/**
 * What codex-lsp speaks beyond standard LSP: its `workspace/executeCommand` commands, their results, and the
 * `codex/*` notifications it streams to clients that declare `experimental.codex` (README, "The language
 * server"). Types only and constants: nothing here talks to VS Code.
 */
import type { Diagnostic, Position, Range } from "vscode-languageclient";

export type { Diagnostic, Position, Range };

/** The server's commands (`workspace/executeCommand`). The extension's own command ids differ from these:
 * vscode-languageclient registers a VS Code command for every id the server offers. */
export const ServerCommand = {
  ask: "codex.ask",
  fixDiagnostics: "codex.fixDiagnostics",
  interrupt: "codex.interrupt",
  threads: "codex.threads",
  newThread: "codex.newThread",
  status: "codex.status",
  proposals: "codex.proposals",
  acceptHunk: "codex.acceptHunk",
  rejectHunk: "codex.rejectHunk",
  applyProposal: "codex.applyProposal",
  discardProposal: "codex.discardProposal",
  account: "codex.account",
  login: "codex.login",
  logout: "codex.logout",
} as const;

/** The commands that run a model turn (they answer when the turn ends). */
export const TURN_COMMANDS: ReadonlySet<string> = new Set([ServerCommand.ask, ServerCommand.fixDiagnostics]);

export const Notification = {
  turnStarted: "codex/turn/started",
  itemStarted: "codex/item/started",
  agentMessageDelta: "codex/item/agentMessage/delta",
  reasoningDelta: "codex/item/reasoning/summaryDelta",
  itemCompleted: "codex/item/completed",
  planUpdated: "codex/turn/plan/updated",
  fileChangeProposed: "codex/turn/fileChange/proposed",
  commandStarted: "codex/turn/command/started",
  commandFinished: "codex/turn/command/finished",
  transport: "codex/turn/transport",
  turnCompleted: "codex/turn/completed",
  proposalUpdated: "codex/proposal/updated",
  loginStarted: "codex/login/started",
  accountUpdated: "codex/account/updated",
} as const;

export const NOTIFICATIONS: readonly string[] = Object.values(Notification);

export type TurnStatus = "completed" | "interrupted" | "failed";

/** What `codex.ask` and `codex.fixDiagnostics` answer when their turn ends. */
export interface TurnResult {
  threadId: string | null;
  turnId: string;
  status: TurnStatus;
  message: string;
  changedFiles: string[];
  error?: string;
  proposalId?: string;
}

export interface PlanStep {
  step: string;
  status: "pending" | "in_progress" | "completed";
}

export interface FileChangeEntry {
  path: string;
  kind: "add" | "update" | "delete" | "move";
  moveTo?: string | null;
}

export type Item =
  | { type: "agentMessage"; id: string; text: string }
  | { type: "reasoning"; id: string; summary: string }
  | {
      type: "fileChange";
      id: string;
      changes: FileChangeEntry[];
      status: string;
      message?: string;
      proposalId?: string | null;
    }
  | {
      type: "commandExecution";
      id: string;
      command: string[];
      status: string;
      exitCode?: number | null;
    }
  | { type: "plan"; id: string; explanation?: string | null; steps: PlanStep[] };

export interface TurnStarted {
  threadId: string;
  turnId: string;
  /** The prompt, or "Fix: <message>" for a fix (absent from older servers). */
  title?: string;
}

export interface ItemEvent {
  turnId: string;
  item: Item;
}

export interface DeltaEvent {
  turnId: string;
  itemId: string;
  delta: string;
}

export interface PlanUpdated {
  turnId: string;
  explanation?: string | null;
  plan: PlanStep[];
}

export interface CommandStarted {
  turnId: string;
  itemId: string;
  command: string[];
}

export interface CommandFinished {
  turnId: string;
  itemId: string;
  exitCode: number | null;
  status: string;
}

export interface TransportNotice {
  turnId: string;
  kind: "retry" | "fallback";
  message: string;
}

export interface TurnCompleted {
  turnId: string;
  threadId: string;
  status: TurnStatus;
  error?: string | null;
  changedFiles?: string[];
}

/** A review-mode proposal changed (held, decided, re-anchored, superseded, restored). */
export interface ProposalUpdated {
  reason: string;
  proposalId: string;
  turnId: string;
  files: Array<{ path: string }>;
  hunks: Array<{ hunkId: string; status: string }>;
}

/** Who the model requests are signed in as (`codex.account`, `codex/account/updated`). It holds no token
 * and no key; still, the extension shows only the fields it names, never the object itself. */
export interface Account {
  signedIn: boolean;
  /** null: not signed in, or the provider takes no OpenAI sign-in. */
  mode: "chatgpt" | "apikey" | null;
  email?: string | null;
  plan?: string | null;
  /** The ChatGPT workspace. */
  accountId?: string | null;
  /** Where the credential comes from: auth.json's path, `env OPENAI_API_KEY`… */
  source?: string | null;
  /** `proactive_expiry` or `scheduled` when the next request refreshes the sign-in first. */
  refreshDue?: string | null;
  /** The access token's expiry, in seconds since the epoch. */
  expiresAt?: number | null;
  lastRefresh?: string | null;
  /** Why requests would fail now (not signed in, a failed refresh, a configuration error). */
  problem?: string | null;
  provider?: string;
  /** Whether the provider takes the OpenAI sign-in at all (null: the configuration is broken). */
  usesAccount?: boolean | null;
}

/** The account as `codex.status` carries it (no `signedIn`, `provider` or `usesAccount`). */
export type StatusAccount = Omit<Account, "signedIn" | "provider" | "usesAccount">;

export type LoginMethod = "device" | "browser" | "apiKey";

/** The arguments of `codex.login`. */
export interface LoginParams {
  method?: LoginMethod;
  apiKey?: string;
  openBrowser?: boolean;
}

/** What `codex.login` answers once the login ends. */
export interface LoginResult {
  status: "signedIn" | "cancelled" | "failed";
  account: Account;
  error?: string;
}

/** What `codex.logout` answers. */
export interface LogoutResult {
  signedOut: boolean;
  account: Account;
}

/** A login waits for the user: the code to enter at `verificationUrl` (device), or the page (browser). */
export interface LoginStarted {
  loginId: string;
  method: LoginMethod;
  verificationUrl?: string;
  userCode?: string;
  authUrl?: string;
  /** When the code expires, in seconds since the epoch. */
  expiresAt?: number | null;
}

export interface AccountUpdated {
  account: Account;
}

/** `$/progress` values of a work-done progress. */
export type WorkDoneProgress =
  | { kind: "begin"; title: string; message?: string; cancellable?: boolean }
  | { kind: "report"; message?: string }
  | { kind: "end"; message?: string };
