import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SignIn } from "../src/account";
import { Commands, askArguments, diagnosticsInView, statusSummary, turnTitle } from "../src/commands";
import type { Account, Diagnostic, TurnResult } from "../src/protocol";
import { Turns } from "../src/turns";
import { FakeConnection, FakeUi, editor } from "./fakes";

function diagnostic(line: number, message = `problem on ${line}`): Diagnostic {
  return { range: { start: { line, character: 0 }, end: { line, character: 4 } }, message, severity: 2, source: "ruff" };
}

const SELECTION = { start: { line: 2, character: 0 }, end: { line: 4, character: 0 } };

function harness(snapshot = editor()) {
  const ui = new FakeUi();
  const connection = new FakeConnection();
  let turn = 0;
  connection.answer = (_method, params) => {
    const command = (params as { command: string }).command;
    if (command === "codex.newThread") {
      return Promise.resolve({ threadId: "fresh", cwd: "/work" });
    }
    const result: TurnResult = { threadId: `thread-${++turn}`, turnId: `t${turn}`, status: "completed", message: "", changedFiles: [] };
    return Promise.resolve(result);
  };
  const log: string[] = [];
  const turns = new Turns({ connection: () => Promise.resolve(connection), ui, changed: () => undefined, turnStarting: () => undefined });
  const account: SignIn = new SignIn({
    ui,
    connection: () => Promise.resolve(connection),
    request: (command, args) => commands.request(command, args),
    changed: () => undefined,
    log: { appendLine: (line) => log.push(line), show: () => undefined },
  });
  const commands: Commands = new Commands({
    ui,
    turns,
    connection: () => Promise.resolve(connection),
    editor: () => snapshot,
    log: { appendLine: (line) => log.push(line), show: () => undefined },
    serverDescription: () => "/bin/codex-lsp",
    account,
  });
  return { ui, connection, commands, account, log };
}

describe("what Ask sends", () => {
  it("sends the selection and the diagnostics inside it", () => {
    const snapshot = editor({ selection: SELECTION, diagnostics: [diagnostic(1), diagnostic(3), diagnostic(30)] });
    assert.deepEqual(askArguments("explain", snapshot, "th"), {
      prompt: "explain",
      uri: "file:///work/app.py",
      version: 3,
      range: SELECTION,
      diagnostics: [diagnostic(3)],
      threadId: "th",
    });
  });

  it("without a selection, sends the diagnostics in view", () => {
    const snapshot = editor({
      visibleRanges: [{ start: { line: 10, character: 0 }, end: { line: 20, character: 0 } }],
      diagnostics: [diagnostic(5), diagnostic(12)],
    });
    assert.deepEqual(diagnosticsInView(snapshot), [diagnostic(12)]);
    assert.deepEqual(askArguments("fix", snapshot, undefined), {
      prompt: "fix",
      uri: "file:///work/app.py",
      version: 3,
      diagnostics: [diagnostic(12)],
    });
  });

  it("without an editor, sends the prompt alone", () => {
    assert.deepEqual(askArguments("hello", undefined, undefined), { prompt: "hello" });
  });
});

describe("Commands", () => {
  it("Ask continues the folder's thread; New Thread starts another", async () => {
    const h = harness();
    h.ui.inputs.push("  first  ", "second", undefined);
    await h.commands.ask();
    await h.commands.ask();
    await h.commands.ask(); // dismissed: nothing sent
    await h.commands.newThread();
    h.ui.inputs.push("third");
    await h.commands.ask();
    const sent = h.connection.commands();
    assert.deepEqual(
      sent.map((c) => [c.command, (c.args as { prompt?: string; threadId?: string }).prompt, (c.args as { threadId?: string }).threadId]),
      [
        ["codex.ask", "first", undefined],
        ["codex.ask", "second", "thread-1"],
        ["codex.newThread", undefined, undefined],
        ["codex.ask", "third", "fresh"],
      ],
    );
    assert.deepEqual(sent[2].args, { uri: "file:///work/app.py" });
  });

  it("Fix Problems in File sends every diagnostic of the file, or says there is none", async () => {
    const problems = [diagnostic(1), diagnostic(50)];
    const h = harness(editor({ diagnostics: problems }));
    await h.commands.fixFile();
    assert.deepEqual(h.connection.commands()[0], {
      command: "codex.fixDiagnostics",
      args: { uri: "file:///work/app.py", version: 3, diagnostics: problems },
      workDoneToken: "codex-vscode-turn-1",
    });
    assert.deepEqual(h.ui.progressTitles, ["Codex: Fix 2 problems in app.py"]);

    const clean = harness(editor());
    await clean.commands.fixFile();
    assert.equal(clean.connection.requests.length, 0);
    assert.deepEqual(clean.ui.messages, [{ level: "info", text: "Codex: no problems in app.py." }]);
  });

  it("Cancel says when nothing was running", async () => {
    const h = harness();
    h.connection.answer = () => Promise.resolve({ interrupted: [] });
    await h.commands.cancel();
    assert.deepEqual(h.ui.messages, [{ level: "info", text: "Codex: no turn is running." }]);
  });

  it("Show Status puts the details in the log on request", async () => {
    const h = harness();
    h.connection.answer = () => Promise.resolve({ version: "0.1.0", model: "gpt-5.5", provider: "openai", keyFound: true, keySource: "env" });
    h.ui.answers.push("Show Details");
    await h.commands.showStatus();
    assert.match(h.ui.messages[0].text, /^Codex 0.1.0 \(\/bin\/codex-lsp\): gpt-5.5 via openai/);
    assert.match(h.log[0], /"keySource": "env"/);
  });

  it("Show Status says who is signed in (codex.account), and its details show no field it does not name", async () => {
    const h = harness();
    const account = { signedIn: true, mode: "chatgpt", email: "dev@example.com", plan: "plus", accountId: "ws-1", usesAccount: true };
    h.connection.answer = (_method, params) =>
      Promise.resolve(
        (params as { command: string }).command === "codex.account"
          ? account
          : { version: "0.1.0", model: "gpt-5.5", provider: "chatgpt", account: { ...account, idToken: "eyJ-secret" } },
      );
    h.ui.answers.push("Show Details");
    await h.commands.showStatus();
    assert.deepEqual(h.connection.commands().map((c) => c.command).sort(), ["codex.account", "codex.status"]);
    assert.match(h.ui.messages[0].text, /running\. Signed in with ChatGPT as dev@example\.com \(plus plan, workspace ws-1\)\.$/);
    assert.deepEqual(h.ui.buttons[0], ["Show Details"]);
    assert.match(h.log.join("\n"), /"email": "dev@example.com"/);
    assert.doesNotMatch(h.log.join("\n"), /secret/);
    assert.deepEqual(h.account.current, account);
  });

  it("Show Status offers Sign In when the provider needs a sign-in and has none", async () => {
    const h = harness();
    const signedOut: Account = { signedIn: false, mode: null, problem: "Not signed in: no credentials.", usesAccount: true };
    h.connection.answer = (_method, params) => {
      const command = (params as { command: string }).command;
      if (command === "codex.login") {
        return Promise.resolve({ status: "cancelled", account: signedOut });
      }
      return Promise.resolve(command === "codex.account" ? signedOut : { version: "0.1.0", model: "gpt-5.5", provider: "openai" });
    };
    h.ui.answers.push("Sign In", "ChatGPT account (device code)");
    await h.commands.showStatus();
    assert.match(h.ui.messages[0].text, /Not signed in: no credentials\. Run “Codex: Sign In”\.$/);
    assert.deepEqual(h.ui.buttons[0], ["Sign In", "Show Details"]);
    assert.deepEqual(h.connection.commands().at(-1), { command: "codex.login", args: { method: "device" }, workDoneToken: "codex-vscode-login-1" });
  });
});

describe("statusSummary", () => {
  it("says whether a key was found, never what it is", () => {
    const text = statusSummary(
      { version: "0.1.0", model: "gpt-5.5", provider: "openai", transport: "websocket", connection: "used", keyFound: true, keySource: "auth.json", runningTurns: ["t"] },
      "/bin/codex-lsp",
    );
    assert.equal(
      text,
      "Codex 0.1.0 (/bin/codex-lsp): gpt-5.5 via openai, websocket (used); key found (auth.json); edits: auto; 1 turn running.",
    );
    assert.match(statusSummary({ version: "0.1.0", configError: "no provider x" }, "s"), /not configured: no provider x$/);
  });
});

describe("turnTitle", () => {
  it("names a turn after its prompt or its first diagnostic", () => {
    assert.equal(turnTitle("codex.ask", { prompt: "explain" }), "explain");
    assert.equal(turnTitle("codex.fixDiagnostics", { diagnostics: [{ message: "F401 unused" }] }), "Fix: F401 unused");
    assert.equal(turnTitle("codex.fixDiagnostics", { all: true }), "Fix the problems in this file");
  });
});
