import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SIGN_IN_CHOICES, SignIn, describeAccount, shownFields } from "../src/account";
import type { Account } from "../src/protocol";
import { FakeConnection, FakeUi, settle } from "./fakes";

const CHATGPT: Account = {
  signedIn: true,
  mode: "chatgpt",
  email: "dev@example.com",
  plan: "plus",
  accountId: "acct-1",
  source: "/home/dev/.codex/auth.json",
  problem: null,
  provider: "openai",
  usesAccount: true,
};

const SIGNED_OUT: Account = {
  signedIn: false,
  mode: null,
  problem: "Not signed in: no credentials in /home/dev/.codex/auth.json.",
  provider: "openai",
  usesAccount: true,
};

/** A promise the test settles when it chooses. */
function deferred<T>(): { promise: Promise<T>; resolve(value: T): void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

function harness() {
  const ui = new FakeUi();
  const connection = new FakeConnection();
  const log: string[] = [];
  let changes = 0;
  const signIn: SignIn = new SignIn({
    ui,
    connection: () => Promise.resolve(connection),
    request: async (command, args) => {
      try {
        return await connection.request("workspace/executeCommand", { command, arguments: [args] });
      } catch (error) {
        void ui.error(`Codex: ${(error as Error).message}`);
        return undefined;
      }
    },
    changed: () => changes++,
    log: { appendLine: (line) => log.push(line), show: () => undefined },
  });
  return { ui, connection, signIn, log, changes: () => changes };
}

describe("Sign In", () => {
  it("offers the device code first, then the browser and an API key, and sends the method chosen", async () => {
    const h = harness();
    h.connection.answer = () => Promise.resolve({ status: "signedIn", account: CHATGPT });
    h.ui.answers.push("ChatGPT account (device code)", "ChatGPT account (browser)", undefined);
    await h.signIn.signIn();
    await h.signIn.signIn();
    await h.signIn.signIn(); // dismissed: nothing sent
    assert.deepEqual(h.ui.offered[0], ["ChatGPT account (device code)", "ChatGPT account (browser)", "API key"]);
    assert.deepEqual(
      SIGN_IN_CHOICES.map((c) => c.method),
      ["device", "browser", "apiKey"],
    );
    assert.deepEqual(h.connection.commands(), [
      { command: "codex.login", args: { method: "device" }, workDoneToken: "codex-vscode-login-1" },
      { command: "codex.login", args: { method: "browser" }, workDoneToken: "codex-vscode-login-2" },
    ]);
  });

  it("asks for an API key in a password box and sends it, shown nowhere", async () => {
    const h = harness();
    const key = "sk-proj-not-a-real-key-0123";
    h.connection.answer = () => Promise.resolve({ status: "signedIn", account: { ...CHATGPT, mode: "apikey" } });
    h.ui.answers.push("API key", "API key");
    h.ui.inputs.push(`  ${key}  `, "   ");
    await h.signIn.signIn();
    await h.signIn.signIn(); // an empty key: nothing sent
    assert.deepEqual(h.ui.inputBoxes.map((b) => b.password), [true, true]);
    assert.deepEqual(h.connection.commands(), [
      { command: "codex.login", args: { method: "apiKey", apiKey: key }, workDoneToken: "codex-vscode-login-1" },
    ]);
    const everythingShown = JSON.stringify([h.ui.messages, h.ui.flashes, h.log]);
    assert.ok(!everythingShown.includes(key));
  });

  it("leaves the outcome the server announced to it, says when the login was cancelled, and reports a refusal", async () => {
    const h = harness();
    const answers: unknown[] = [
      { status: "signedIn", account: CHATGPT },
      { status: "failed", account: SIGNED_OUT, error: "the issuer refused" },
      { status: "cancelled", account: SIGNED_OUT },
    ];
    h.connection.answer = () => {
      const next = answers.shift();
      return next ? Promise.resolve(next) : Promise.reject(new Error("codex.login: sign in with an API key"));
    };
    h.ui.answers.push("ChatGPT account (device code)");
    await h.signIn.signIn();
    h.ui.answers.push("ChatGPT account (device code)");
    await h.signIn.signIn();
    assert.deepEqual(h.ui.messages, [], "the server said 'signed in (…)' and 'sign-in failed: …' itself");
    h.ui.answers.push("ChatGPT account (device code)");
    await h.signIn.signIn();
    h.ui.answers.push("ChatGPT account (browser)");
    await h.signIn.signIn();
    assert.deepEqual(h.ui.messages, [
      { level: "info", text: "Codex: sign-in cancelled." },
      { level: "error", text: "Codex: codex.login: sign in with an API key" },
    ]);
  });

  it("while the login waits for the user, offers Cancel (which cancels the server's progress), without the code", async () => {
    const h = harness();
    const answer = deferred<unknown>();
    h.connection.answer = () => answer.promise;
    h.ui.answers.push("ChatGPT account (device code)");
    const signingIn = h.signIn.signIn();
    await settle();
    assert.deepEqual(h.ui.progressTitles, [], "nothing until the server waits for the user");
    const report = h.connection.progress.get("codex-vscode-login-1");
    assert.ok(report, "the login's progress is ours, not the language client's (which cannot be cancelled)");
    report({ kind: "begin", title: "Codex sign-in", message: "enter AB12-CD34 at http://x/codex/device", cancellable: true });
    assert.deepEqual(h.ui.progressTitles, ["Codex: waiting for the ChatGPT sign-in"]);
    h.ui.pressCancel();
    assert.deepEqual(h.connection.notifications, [{ method: "window/workDoneProgress/cancel", params: { token: "codex-vscode-login-1" } }]);
    answer.resolve({ status: "cancelled", account: SIGNED_OUT });
    await signingIn;
    assert.deepEqual(h.ui.messages, [{ level: "info", text: "Codex: sign-in cancelled." }]);
    assert.deepEqual(h.ui.reports, [], "the code is in the server's message and the status bar, not here too");
    assert.equal(h.connection.progress.size, 0);
  });

  it("does not call a login cancelled when the next Sign In replaced it", async () => {
    const h = harness();
    const first = deferred<unknown>();
    const answers = [first.promise, Promise.resolve({ status: "signedIn", account: CHATGPT })];
    h.connection.answer = () => answers.shift() as Promise<unknown>;
    h.ui.answers.push("ChatGPT account (device code)", "ChatGPT account (browser)");
    const replaced = h.signIn.signIn();
    await settle();
    await h.signIn.signIn();
    first.resolve({ status: "cancelled", account: SIGNED_OUT }); // the server ends the first for the second
    await replaced;
    assert.deepEqual(h.ui.messages, []);
  });
});

describe("Sign Out", () => {
  it("sends codex.logout; the server says what it did", async () => {
    const h = harness();
    h.connection.answer = () => Promise.resolve({ signedOut: true, account: SIGNED_OUT });
    await h.signIn.signOut();
    assert.deepEqual(h.connection.commands(), [{ command: "codex.logout", args: {}, workDoneToken: undefined }]);
    assert.deepEqual(h.ui.messages, []);
  });
});

describe("the account", () => {
  it("is read with codex.account and follows codex/account/updated", async () => {
    const h = harness();
    h.connection.answer = () => Promise.resolve(SIGNED_OUT);
    assert.deepEqual(await h.signIn.load(), SIGNED_OUT);
    assert.deepEqual(h.connection.commands(), [{ command: "codex.account", args: {}, workDoneToken: undefined }]);
    const before = h.changes();
    assert.equal(h.signIn.handle("codex/account/updated", { account: CHATGPT }), true);
    assert.deepEqual(h.signIn.current, CHATGPT);
    assert.equal(h.changes(), before + 1, "the status bar is redrawn");
    assert.equal(h.signIn.handle("codex/turn/started", {}), false, "the transcript's notifications are not ours");
  });

  it("keeps the newer account when a codex.account answer arrives after a notification", async () => {
    const h = harness();
    const slow = deferred<Account>();
    h.connection.answer = () => slow.promise;
    const loading = h.signIn.load();
    await settle();
    h.signIn.handle("codex/account/updated", { account: CHATGPT });
    slow.resolve(SIGNED_OUT);
    assert.deepEqual(await loading, CHATGPT);
    assert.deepEqual(h.signIn.current, CHATGPT);
  });

  it("is unknown, quietly, when the server cannot say (an older server), and forgotten when the server stops", async () => {
    const h = harness();
    h.connection.answer = () => Promise.reject(new Error("Unknown command codex.account"));
    assert.equal(await h.signIn.load(), undefined);
    assert.deepEqual(h.ui.messages, []);
    assert.match(h.log[0], /codex.account: Unknown command/);
    h.signIn.handle("codex/account/updated", { account: CHATGPT });
    h.signIn.handle("codex/login/started", { loginId: "l", method: "device", userCode: "AB12-CD34", verificationUrl: "http://x/codex/device" });
    h.signIn.forget();
    assert.equal(h.signIn.current, undefined);
    assert.equal(h.signIn.login, undefined);
  });
});

describe("a login waiting for the user", () => {
  it("keeps the device code until the sign-in changes; continuing copies the code and opens the page", async () => {
    const h = harness();
    h.signIn.handle("codex/login/started", {
      loginId: "l1",
      method: "device",
      verificationUrl: "http://127.0.0.1:9/codex/device",
      userCode: "AB12-CD34",
      expiresAt: 1,
    });
    assert.deepEqual(h.signIn.login, { method: "device", url: "http://127.0.0.1:9/codex/device", userCode: "AB12-CD34" });
    assert.deepEqual(h.ui.messages, [], "the server's own message shows the code: no second one");
    await h.signIn.continueSignIn();
    assert.deepEqual(h.ui.clipboard, ["AB12-CD34"]);
    assert.deepEqual(h.ui.opened, ["http://127.0.0.1:9/codex/device"]);
    assert.match(h.ui.flashes[0], /AB12-CD34 copied/);
    h.signIn.handle("codex/account/updated", { account: CHATGPT });
    assert.equal(h.signIn.login, undefined);
    await h.signIn.continueSignIn();
    assert.deepEqual(h.ui.messages, [{ level: "info", text: "Codex: no sign-in is waiting." }]);
  });

  it("in the browser, continuing opens the page again and copies nothing", async () => {
    const h = harness();
    h.signIn.handle("codex/login/started", { loginId: "l2", method: "browser", authUrl: "http://127.0.0.1:9/oauth/authorize?x=1" });
    await h.signIn.continueSignIn();
    assert.deepEqual(h.ui.opened, ["http://127.0.0.1:9/oauth/authorize?x=1"]);
    assert.deepEqual(h.ui.clipboard, []);
  });
});

describe("describeAccount", () => {
  it("names the mode, the email, the plan and the workspace", () => {
    assert.equal(describeAccount(CHATGPT), "Signed in with ChatGPT as dev@example.com (plus plan, workspace acct-1).");
    const key = { signedIn: true, mode: "apikey", source: "env OPENAI_API_KEY", usesAccount: true } as const;
    assert.equal(describeAccount(key), "Signed in with an API key (env OPENAI_API_KEY).");
    assert.equal(describeAccount({ ...key, usesAccount: false, source: "env MY_KEY" }), "API key found (env MY_KEY).");
  });

  it("when not signed in, says why and to run Codex: Sign In, only where signing in helps", () => {
    assert.equal(
      describeAccount(SIGNED_OUT),
      "Not signed in: no credentials in /home/dev/.codex/auth.json. Run “Codex: Sign In”.",
    );
    const refused = { ...CHATGPT, signedIn: false, problem: "your access token could not be refreshed" };
    assert.equal(describeAccount(refused), "Your access token could not be refreshed. Run “Codex: Sign In”.");
    const missing = { signedIn: false, mode: null, problem: "Missing environment variable: `MY_KEY`.", usesAccount: false };
    assert.equal(describeAccount(missing), "Missing environment variable: `MY_KEY`.");
    const broken = { signedIn: false, mode: null, problem: "invalid setting in config.toml", usesAccount: null };
    assert.equal(describeAccount(broken), "Invalid setting in config.toml.");
    assert.equal(describeAccount({ signedIn: false, mode: null, provider: "ollama", usesAccount: false }), "No sign-in needed for the provider ollama.");
  });

  it("shows only the fields it names: a token added to the account one day stays hidden", () => {
    const withSecret = { ...CHATGPT, accessToken: "eyJ-secret-token", apiKey: "sk-secret" } as Account;
    const shown = JSON.stringify([describeAccount(withSecret), shownFields(withSecret)]);
    assert.ok(!shown.includes("secret"), shown);
    assert.deepEqual(Object.keys(shownFields(withSecret)).sort(), Object.keys(CHATGPT).sort());
  });
});
