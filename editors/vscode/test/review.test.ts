import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Review, hunkAt, type Hunk, type Proposal } from "../src/review";
import { FakeConnection, FakeUi, editor } from "./fakes";

const APP = "file:///work/app.py";
const OTHER = "file:///work/other.py";

function hunk(hunkId: string, uri: string, start: number, end: number, status = "pending"): Hunk {
  return {
    hunkId,
    path: uri.split("/").pop() as string,
    uri,
    kind: "update",
    status,
    label: `@@ ${hunkId}`,
    range: { start: { line: start, character: 0 }, end: { line: end, character: 0 } },
  };
}

function proposal(proposalId: string, hunks: Hunk[]): Proposal {
  const files = [...new Set(hunks.map((h) => h.path))].map((path) => ({ path, uri: `file:///work/${path}` }));
  return { proposalId, turnId: "t", files, hunks };
}

function harness(proposals: Proposal[], line: number, uri = APP) {
  const ui = new FakeUi();
  const connection = new FakeConnection();
  let decision: unknown = { proposalId: "p", conflicted: [], message: "" };
  connection.answer = (_method, params) => {
    const { command } = params as { command: string };
    return Promise.resolve(command === "codex.proposals" ? { proposals } : decision);
  };
  const review = new Review({
    ui,
    editor: () => editor({ uri, cursor: { line, character: 0 } }),
    request: <R>(command: string, args: unknown) =>
      connection.request<R>("workspace/executeCommand", { command, arguments: [args] }),
  });
  const decisions = () => connection.commands().filter((c) => c.command !== "codex.proposals");
  return { ui, review, decisions, setDecision: (answer: unknown) => (decision = answer) };
}

describe("hunkAt", () => {
  const proposals = [proposal("p1", [hunk("h1", APP, 2, 5), hunk("h2", APP, 9, 9), hunk("h3", APP, 20, 22, "accepted")])];

  it("finds the undecided hunk whose lines hold the cursor, or an insertion on its line", () => {
    assert.equal(hunkAt(proposals, APP, 2)?.hunk.hunkId, "h1");
    assert.equal(hunkAt(proposals, APP, 4)?.hunk.hunkId, "h1");
    assert.equal(hunkAt(proposals, APP, 5), undefined);
    assert.equal(hunkAt(proposals, APP, 9)?.hunk.hunkId, "h2");
    assert.equal(hunkAt(proposals, APP, 21), undefined, "a decided hunk is not offered");
    assert.equal(hunkAt(proposals, OTHER, 2), undefined);
  });
});

describe("Review", () => {
  it("accepts the hunk under the cursor", async () => {
    const h = harness([proposal("p1", [hunk("h1", APP, 2, 5), hunk("h2", APP, 9, 12)])], 10);
    await h.review.decideHunk("accept");
    assert.deepEqual(h.decisions().map((d) => [d.command, d.args]), [["codex.acceptHunk", { proposalId: "p1", hunkId: "h2" }]]);
  });

  it("asks which hunk when the cursor is on none, the active file's first", async () => {
    const h = harness([proposal("p1", [hunk("h1", OTHER, 2, 5), hunk("h2", APP, 9, 12)])], 0);
    h.ui.answers.push("h1 · other.py:3 · @@ h1");
    await h.review.decideHunk("reject");
    assert.deepEqual(h.decisions().map((d) => [d.command, d.args]), [["codex.rejectHunk", { proposalId: "p1", hunkId: "h1" }]]);
  });

  it("applies the proposal of the active file, asking only when several could be meant", async () => {
    const two = [proposal("p1", [hunk("h1", APP, 2, 5)]), proposal("p2", [hunk("h1", OTHER, 2, 5)])];
    const h = harness(two, 0);
    await h.review.decideProposal("apply");
    assert.deepEqual(h.decisions().map((d) => [d.command, d.args]), [["codex.applyProposal", { proposalId: "p1" }]]);

    const elsewhere = harness(two, 0, "file:///work/third.py");
    elsewhere.ui.answers.push("p2 · other.py");
    await elsewhere.review.decideProposal("discard");
    assert.deepEqual(elsewhere.decisions().map((d) => [d.command, d.args]), [["codex.discardProposal", { proposalId: "p2" }]]);
  });

  it("warns when the hunk no longer matches the file", async () => {
    const h = harness([proposal("p1", [hunk("h1", APP, 2, 5)])], 3);
    const connectionAnswer = { proposalId: "p1", conflicted: ["h1"], message: "h1 no longer matches the file" };
    h.setDecision(connectionAnswer);
    await h.review.decideHunk("accept");
    assert.deepEqual(h.ui.messages, [{ level: "warning", text: "Codex: h1 no longer matches the file" }]);
  });

  it("says when nothing waits for review", async () => {
    const h = harness([proposal("p1", [hunk("h1", APP, 2, 5, "rejected")])], 2);
    await h.review.decideHunk("accept");
    assert.equal(h.decisions().length, 0);
    assert.match(h.ui.messages[0].text, /no change is waiting for review/);
  });
});
