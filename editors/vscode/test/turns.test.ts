import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { TurnResult } from "../src/protocol";
import { Turns } from "../src/turns";
import { FakeConnection, FakeUi, settle } from "./fakes";

const RESULT: TurnResult = { threadId: "th", turnId: "t1", status: "completed", message: "done", changedFiles: [] };

/** `null`: no server running. */
function harness(connection: FakeConnection | null = new FakeConnection()) {
  const ui = new FakeUi();
  let changes = 0;
  let reveals = 0;
  let ended = 0;
  const turns = new Turns({
    connection: () => Promise.resolve(connection ?? undefined),
    ui,
    changed: () => changes++,
    turnStarting: () => reveals++,
    turnEnded: () => ended++,
  });
  return { ui, turns, connection, changes: () => changes, reveals: () => reveals, ended: () => ended };
}

/** A connection whose turn requests wait until `finish` is called. */
function pending(): { connection: FakeConnection; finish: (result: TurnResult) => void } {
  const connection = new FakeConnection();
  let finish: (result: TurnResult) => void = () => undefined;
  connection.answer = () => new Promise((resolve) => (finish = resolve));
  return { connection, finish: (result) => finish(result) };
}

describe("Turns", () => {
  it("sends the command with a work-done token of its own and answers the turn's result", async () => {
    const connection = new FakeConnection();
    connection.answer = () => Promise.resolve(RESULT);
    const h = harness(connection);
    const result = await h.turns.run("codex.ask", { prompt: "hi" }, "hi");
    assert.deepEqual(result, RESULT);
    const [sent] = connection.commands();
    assert.equal(sent.command, "codex.ask");
    assert.deepEqual(sent.args, { prompt: "hi" });
    assert.match(sent.workDoneToken ?? "", /^codex-vscode-turn-\d+$/);
    assert.deepEqual(h.ui.progressTitles, ["Codex: hi"]);
    assert.equal(h.reveals(), 1);
  });

  it("shows the server's progress lines, and is running until the turn ends", async () => {
    const { connection, finish } = pending();
    const h = harness(connection);
    const running = h.turns.run("codex.ask", { prompt: "hi" }, "a prompt");
    await settle();
    assert.equal(h.turns.running, 1);
    assert.equal(h.turns.line, "a prompt");
    const token = connection.commands()[0].workDoneToken as string;
    connection.progress.get(token)?.({ kind: "begin", title: "Codex", message: "a prompt", cancellable: true });
    connection.progress.get(token)?.({ kind: "report", message: "editing app.py" });
    assert.deepEqual(h.ui.reports, ["editing app.py"]);
    assert.equal(h.turns.line, "editing app.py");
    finish(RESULT);
    await running;
    assert.equal(h.turns.running, 0);
    assert.equal(connection.progress.size, 0, "the progress listener is released");
  });

  it("cancels its own turn from the notification's Cancel button", async () => {
    const { connection, finish } = pending();
    const h = harness(connection);
    const running = h.turns.run("codex.fixDiagnostics", { uri: "file:///a.py" }, "Fix: x");
    await settle();
    h.ui.pressCancel();
    const token = connection.commands()[0].workDoneToken;
    assert.deepEqual(connection.notifications, [{ method: "window/workDoneProgress/cancel", params: { token } }]);
    finish({ ...RESULT, status: "interrupted" });
    assert.equal((await running)?.status, "interrupted");
  });

  it("remembers why a turn failed until the next one starts", async () => {
    const connection = new FakeConnection();
    connection.answer = () => Promise.resolve({ ...RESULT, status: "failed", error: "no key" });
    const h = harness(connection);
    await h.turns.run("codex.ask", { prompt: "hi" }, "hi");
    assert.equal(h.turns.lastError, "no key");
    assert.equal(h.ended(), 1, "an ended turn is reported (the extension reads the account again)");
    connection.answer = () => Promise.resolve(RESULT);
    const next = h.turns.run("codex.ask", { prompt: "again" }, "again");
    await settle();
    assert.equal(h.turns.lastError, undefined);
    await next;
  });

  it("says so when the request fails or there is no server", async () => {
    const connection = new FakeConnection();
    connection.answer = () => Promise.reject(new Error("codex.ask: prompt must be a non-empty string"));
    const h = harness(connection);
    assert.equal(await h.turns.run("codex.ask", { prompt: "" }, ""), undefined);
    assert.deepEqual(h.ui.messages, [{ level: "error", text: "Codex: codex.ask: prompt must be a non-empty string" }]);
    assert.equal(h.turns.running, 0);
    assert.equal(h.ended(), 1);

    const none = harness(null);
    assert.equal(await none.turns.run("codex.ask", { prompt: "hi" }, "hi"), undefined);
    assert.match(none.ui.messages[0].text, /server is not running/);
  });

  it("interrupts every turn through codex.interrupt", async () => {
    const connection = new FakeConnection();
    connection.answer = () => Promise.resolve({ interrupted: ["t1", "t2"] });
    const h = harness(connection);
    assert.equal(await h.turns.cancelAll(), 2);
    assert.deepEqual(connection.commands(), [{ command: "codex.interrupt", args: {}, workDoneToken: undefined }]);
  });
});
