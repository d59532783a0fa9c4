import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Command } from "../src/ids";
import type { Account } from "../src/protocol";
import { statusView } from "../src/statusView";

const RUNNING = { kind: "running", command: "/bin/codex-lsp", source: "path" } as const;

describe("statusView", () => {
  it("is idle when nothing runs: a click shows the status", () => {
    const view = statusView({ server: RUNNING, running: 0 });
    assert.deepEqual([view.text, view.command, view.error], ["$(sparkle) Codex", Command.showStatus, false]);
  });

  it("shows a running turn's latest line: a click cancels", () => {
    const view = statusView({ server: RUNNING, running: 1, line: "editing app.py" });
    assert.deepEqual([view.text, view.command], ["$(sync~spin) Codex: editing app.py", Command.cancel]);
    assert.equal(statusView({ server: RUNNING, running: 2, line: "x" }).text, "$(sync~spin) Codex: 2 turns");
  });

  it("shows errors: a failed turn, a crashed or missing server", () => {
    const failedTurn = statusView({ server: RUNNING, running: 0, lastError: "no key" });
    assert.deepEqual([failedTurn.text, failedTurn.command, failedTurn.error], ["$(error) Codex", Command.showLog, true]);
    assert.match(failedTurn.tooltip, /The last turn failed: no key/);
    const restarting = statusView({ server: { kind: "restarting", inMs: 4000, reason: "the process exited" }, running: 0 });
    assert.match(restarting.tooltip, /restarting in 4 s/);
    assert.equal(restarting.error, true);
    const missing = statusView({ server: { kind: "failed", message: "codex-lsp was not found." }, running: 1 });
    assert.deepEqual([missing.text, missing.command], ["$(error) Codex", Command.showLog]);
  });

  it("says in the tooltip who the requests are signed in as, or how to sign in", () => {
    const account: Account = { signedIn: true, mode: "chatgpt", email: "dev@example.com", plan: "pro", accountId: "ws-1", usesAccount: true };
    const idle = statusView({ server: RUNNING, running: 0, account });
    assert.match(idle.tooltip, /Click for its status\.\nSigned in with ChatGPT as dev@example\.com \(pro plan, workspace ws-1\)\.$/);
    const failed = statusView({ server: RUNNING, running: 0, lastError: "no", account: { signedIn: false, mode: null, problem: "Not signed in.", usesAccount: true } });
    assert.match(failed.tooltip, /\nNot signed in\. Run “Codex: Sign In”\.$/);
    assert.doesNotMatch(statusView({ server: { kind: "starting" }, running: 0, account }).tooltip, /dev@example/, "a stopped server's account is stale");
    assert.doesNotMatch(statusView({ server: RUNNING, running: 0 }).tooltip, /\n/, "no account known, none shown");
    assert.doesNotMatch(statusView({ server: RUNNING, running: 1, account }).tooltip, /\n/, "a running turn's tooltip is the turn's");
  });

  it("shows the code of a login waiting for the user: a click copies it and opens the page", () => {
    const login = { method: "device", url: "http://127.0.0.1:9/codex/device", userCode: "AB12-CD34" } as const;
    const view = statusView({ server: RUNNING, running: 0, login, lastError: "Not signed in" });
    assert.deepEqual([view.text, view.command, view.error], ["$(key) Codex: AB12-CD34", Command.continueSignIn, false]);
    assert.match(view.tooltip, /enter AB12-CD34 at http:\/\/127\.0\.0\.1:9\/codex\/device/);
    const browser = statusView({ server: RUNNING, running: 0, login: { method: "browser", url: "http://x/authorize" } });
    assert.deepEqual([browser.text, browser.command], ["$(key) Codex: signing in…", Command.continueSignIn]);
    assert.equal(statusView({ server: RUNNING, running: 1, line: "editing", login }).command, Command.cancel, "a running turn comes first");
  });
});
