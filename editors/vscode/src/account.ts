/**
 * The user's sign-in: Sign In and Sign Out (`codex.login`, `codex.logout`), the account the status bar and
 * Show Status describe (read with `codex.account`, kept current by `codex/account/updated`), and a login
 * that waits for the user (`codex/login/started`).
 *
 * codex-lsp tells the user most of a login itself: the code and the page (`window/showMessage`, and the page
 * opened through `window/showDocument`), a cancellable work-done progress, and the outcome ("signed in
 * (…)", "sign-in failed: …", "signed out"). This module adds only what the server cannot: the choice of
 * method, the API key box, that progress as a notification with Cancel (vscode-languageclient would put it
 * in the status bar, where it cannot be cancelled), the code kept in the status bar while the login waits (a
 * click copies it and opens the page, where the server's message may be gone), and a word when a login was
 * cancelled.
 */
import type { Connection, Log, Ui } from "./host";
import {
  Notification,
  ServerCommand,
  type Account,
  type AccountUpdated,
  type LoginMethod,
  type LoginParams,
  type LoginResult,
  type LoginStarted,
  type LogoutResult,
} from "./protocol";

export interface SignInDeps {
  ui: Ui;
  /** The server's connection, once a starting server is up; undefined when it is not running. */
  connection(): Promise<Connection | undefined>;
  /** A server command the user asked for; undefined (the user was told why) when it failed. */
  request<R>(command: string, args: unknown): Promise<R | undefined>;
  /** What the status bar shows changed. */
  changed(): void;
  log: Log;
}

/** A login waiting for the user: the code to enter at `url` (device), or the page to finish on (browser). */
export interface PendingLogin {
  method: LoginMethod;
  url: string;
  userCode?: string;
}

export interface SignInChoice {
  label: string;
  detail: string;
  method: LoginMethod;
}

/** Sign In's choices; the first is the default (it needs no port on the server's machine). */
export const SIGN_IN_CHOICES: readonly SignInChoice[] = [
  {
    label: "ChatGPT account (device code)",
    detail: "Enter a code on a sign-in page, in any browser. Works with a remote server too.",
    method: "device",
  },
  {
    label: "ChatGPT account (browser)",
    detail: "Sign in on the page that opens; the server waits for it on port 1455 of its machine.",
    method: "browser",
  },
  { label: "API key", detail: "An OpenAI API key, saved in $CODEX_HOME/auth.json.", method: "apiKey" },
];

export const SIGN_IN_HINT = "Run “Codex: Sign In”.";

/** The notification (with Cancel) while a login waits for the user. */
const LOGIN_TITLE = "Codex: waiting for the ChatGPT sign-in";

function sentence(text: string): string {
  const trimmed = text.trim();
  const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

/** Whether signing in is what the user needs: the provider takes the OpenAI sign-in and has none that works. */
export function needsSignIn(account: Account): boolean {
  return !account.signedIn && account.usesAccount === true;
}

/**
 * Who the model requests are signed in as, in a sentence or two: the mode, the email, the plan and the
 * workspace, or why nothing works and what to do. Only the fields named here are read, so a secret added
 * to the account one day would still never be shown.
 */
export function describeAccount(account: Account): string {
  if (account.signedIn && account.mode === "chatgpt") {
    const details = [account.plan ? `${account.plan} plan` : "", account.accountId ? `workspace ${account.accountId}` : ""];
    const extra = details.filter(Boolean).join(", ");
    return `Signed in with ChatGPT as ${account.email ?? "an unnamed user"}${extra ? ` (${extra})` : ""}.`;
  }
  if (account.signedIn && account.mode === "apikey") {
    const source = account.source ? ` (${account.source})` : "";
    return account.usesAccount ? `Signed in with an API key${source}.` : `API key found${source}.`;
  }
  if (needsSignIn(account)) {
    return `${sentence(account.problem ?? "Not signed in")} ${SIGN_IN_HINT}`;
  }
  if (account.problem) {
    return sentence(account.problem);
  }
  return `No sign-in needed${account.provider ? ` for the provider ${account.provider}` : ""}.`;
}

/** The account's fields that may be shown (for Show Status' details): a field added one day is left out
 * until it is named here. */
const SHOWN_FIELDS = [
  "signedIn",
  "mode",
  "email",
  "plan",
  "accountId",
  "source",
  "refreshDue",
  "expiresAt",
  "lastRefresh",
  "problem",
  "provider",
  "usesAccount",
] as const;

export function shownFields(account: Partial<Account>): Record<string, unknown> {
  const shown: Record<string, unknown> = {};
  for (const field of SHOWN_FIELDS) {
    if (field in account) {
      shown[field] = account[field];
    }
  }
  return shown;
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class SignIn {
  /** The latest account the server reported; undefined until it did, and while no server runs. */
  current: Account | undefined;
  /** The login waiting for the user, if any. */
  login: PendingLogin | undefined;
  /** Bumped by every report of the account, so that a slower `codex.account` answer never replaces a newer one. */
  private revision = 0;
  /** Bumped by every Sign In, so that a login the next one replaced is not reported as cancelled by the user. */
  private attempts = 0;

  constructor(private readonly deps: SignInDeps) {}

  /** Read the account (`codex.account`) quietly: a server without the command just has none to show. */
  async load(): Promise<Account | undefined> {
    const connection = await this.deps.connection();
    if (!connection) {
      return undefined;
    }
    const revision = this.revision;
    try {
      const account = await connection.request<Account>("workspace/executeCommand", {
        command: ServerCommand.account,
        arguments: [{}],
      });
      if (revision === this.revision) {
        this.set(account);
      }
    } catch (error) {
      // An older codex-lsp, or a server going away: the status bar just says nothing about the account.
      this.deps.log.appendLine(`codex.account: ${reasonOf(error)}`);
    }
    return this.current;
  }

  /** The server stopped (or started again): what it said about the account no longer holds. */
  forget(): void {
    this.revision++;
    this.current = undefined;
    this.login = undefined;
    this.deps.changed();
  }

  /** Take a `codex/*` notification; false when it is not about the sign-in. */
  handle(method: string, params: unknown): boolean {
    switch (method) {
      case Notification.accountUpdated:
        // Sent after every change of sign-in, the end of every login included.
        this.login = undefined;
        this.set((params as AccountUpdated).account);
        return true;
      case Notification.loginStarted:
        this.started(params as LoginStarted);
        return true;
      default:
        return false;
    }
  }

  /** Codex: Sign In — choose how, then `codex.login`; the server shows the code, the progress and the outcome. */
  async signIn(): Promise<void> {
    const choice = await this.deps.ui.pick([...SIGN_IN_CHOICES], "Sign in to Codex with…");
    if (!choice) {
      return;
    }
    const args: LoginParams = { method: choice.method };
    if (choice.method === "apiKey") {
      const key = await this.deps.ui.inputBox({
        title: "Codex: Sign In with an API Key",
        prompt: "Your OpenAI API key (saved in $CODEX_HOME/auth.json, as `codex login --with-api-key` does)",
        placeHolder: "sk-…",
        password: true,
      });
      if (!key?.trim()) {
        return;
      }
      args.apiKey = key.trim();
    }
    const attempt = ++this.attempts;
    const result = await this.sendLogin(args, `codex-vscode-login-${attempt}`);
    // "signedIn" and "failed" the server has said itself; a cancelled login it ends silently.
    if (result?.status === "cancelled" && attempt === this.attempts) {
      void this.deps.ui.info("Codex: sign-in cancelled.");
    }
  }

  /**
   * Send `codex.login` with a work-done token of ours. vscode-languageclient would show the server's progress
   * in the status bar, where it cannot be cancelled; on our token, while the login waits for the user, a
   * notification offers Cancel (`window/workDoneProgress/cancel`). It does not repeat the code: the server's
   * message and the status bar show it.
   */
  private async sendLogin(args: LoginParams, token: string): Promise<LoginResult | undefined> {
    const connection = await this.deps.connection();
    if (!connection) {
      void this.deps.ui.error("Codex: the codex-lsp server is not running (see “Codex: Show Server Log”).");
      return undefined;
    }
    let ended: () => void = () => undefined;
    const waiting = new Promise<void>((resolve) => (ended = resolve));
    const listener = connection.onProgress(token, (value) => {
      if (value.kind === "begin") {
        void this.deps.ui.withProgress(LOGIN_TITLE, (progress) => {
          progress.onCancel(() => {
            connection.notify("window/workDoneProgress/cancel", { token }).catch(() => undefined);
          });
          return waiting;
        });
      } else if (value.kind === "end") {
        ended();
      }
    });
    try {
      return await connection.request<LoginResult>("workspace/executeCommand", {
        command: ServerCommand.login,
        arguments: [args],
        workDoneToken: token,
      });
    } catch (error) {
      void this.deps.ui.error(`Codex: ${reasonOf(error)}`);
      return undefined;
    } finally {
      listener.dispose();
      ended();
    }
  }

  /** Codex: Sign Out — `codex.logout`; the server says whether there was a sign-in to remove. */
  async signOut(): Promise<void> {
    await this.deps.request<LogoutResult>(ServerCommand.logout, {});
  }

  /** The status bar's click while a login waits: copy the code, and open the page again. */
  async continueSignIn(): Promise<void> {
    const login = this.login;
    if (!login) {
      void this.deps.ui.info("Codex: no sign-in is waiting.");
      return;
    }
    if (login.userCode) {
      await this.deps.ui.copy(login.userCode);
      this.deps.ui.flash(`Codex: ${login.userCode} copied; paste it on the sign-in page.`);
    }
    await this.deps.ui.openUrl(login.url);
  }

  private started(params: LoginStarted): void {
    const url = params.verificationUrl ?? params.authUrl;
    if (!url) {
      return;
    }
    this.login = { method: params.method, url, ...(params.userCode ? { userCode: params.userCode } : {}) };
    this.deps.changed();
  }

  private set(account: Account): void {
    this.revision++;
    this.current = account;
    this.deps.changed();
  }
}
