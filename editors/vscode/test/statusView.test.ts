import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Command } from "../src/ids";
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
});
