import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MAX_TURNS, Transcript } from "../src/transcript";

const T = "turn-1";

function feed(transcript: Transcript, events: Array<[string, unknown]>): void {
  for (const [method, params] of events) {
    assert.equal(transcript.handle(method, params), true, method);
  }
}

describe("Transcript", () => {
  it("streams an answer delta by delta, the final text winning", () => {
    const transcript = new Transcript();
    let changes = 0;
    transcript.onDidChange(() => changes++);
    feed(transcript, [
      ["codex/turn/started", { threadId: "th", turnId: T, title: "add type hints" }],
      ["codex/item/started", { turnId: T, item: { type: "agentMessage", id: "m1", text: "" } }],
      ["codex/item/agentMessage/delta", { turnId: T, itemId: "m1", delta: "Here " }],
      ["codex/item/agentMessage/delta", { turnId: T, itemId: "m1", delta: "it is" }],
    ]);
    const turn = transcript.turns[0];
    assert.deepEqual(turn.entries, [{ kind: "message", id: "m1", text: "Here it is" }]);
    assert.equal(turn.title, "add type hints");
    assert.equal(turn.status, "running");
    const revision = turn.revision;
    feed(transcript, [
      ["codex/item/completed", { turnId: T, item: { type: "agentMessage", id: "m1", text: "Here it is." } }],
      ["codex/turn/completed", { turnId: T, threadId: "th", status: "completed" }],
    ]);
    assert.deepEqual(turn.entries, [{ kind: "message", id: "m1", text: "Here it is." }]);
    assert.equal(turn.status, "completed");
    assert.ok(turn.revision > revision);
    assert.equal(changes, 6);
  });

  it("shows reasoning, the plan, commands, file changes and transport notices in order", () => {
    const transcript = new Transcript();
    feed(transcript, [
      ["codex/turn/started", { threadId: "th", turnId: T }],
      ["codex/item/reasoning/summaryDelta", { turnId: T, itemId: "r1", delta: "Read the file" }],
      ["codex/turn/plan/updated", { turnId: T, plan: [{ step: "fix it", status: "in_progress" }] }],
      ["codex/turn/command/started", { turnId: T, itemId: "c1", command: ["pytest", "-q"] }],
      ["codex/turn/command/finished", { turnId: T, itemId: "c1", exitCode: 1, status: "failed" }],
      [
        "codex/item/completed",
        {
          turnId: T,
          item: {
            type: "fileChange",
            id: "f1",
            status: "applied",
            changes: [
              { path: "a.py", kind: "update" },
              { path: "b.py", kind: "add" },
              { path: "c.py", kind: "move", moveTo: "d.py" },
            ],
          },
        },
      ],
      ["codex/turn/transport", { turnId: T, kind: "fallback", message: "WebSocket refused; using HTTP" }],
      ["codex/turn/completed", { turnId: T, threadId: "th", status: "failed", error: "the model stopped" }],
    ]);
    const turn = transcript.turns[0];
    assert.equal(turn.title, "Codex turn");
    assert.deepEqual(
      turn.entries.map((e) => e.kind),
      ["reasoning", "plan", "command", "fileChange", "notice"],
    );
    assert.deepEqual(turn.entries[2], { kind: "command", id: "c1", command: "pytest -q", status: "failed", exitCode: 1 });
    assert.deepEqual(turn.entries[3], {
      kind: "fileChange",
      id: "f1",
      files: ["a.py", "b.py (add)", "c.py → d.py"],
      status: "applied",
      message: undefined,
    });
    assert.equal(turn.status, "failed");
    assert.equal(turn.error, "the model stopped");
  });

  it("makes up a turn it did not see start, and ignores what it does not show", () => {
    const transcript = new Transcript();
    feed(transcript, [["codex/item/agentMessage/delta", { turnId: "late", itemId: "m", delta: "hi" }]]);
    assert.equal(transcript.turns[0].turnId, "late");
    assert.equal(transcript.handle("codex/something/new", {}), false);
  });

  it("shows a review-mode proposal in its turn, counting its hunks as they are decided", () => {
    const transcript = new Transcript();
    const proposal = (statuses: string[], files = [{ path: "app.py" }]) => ({
      reason: "accepted",
      proposalId: "p-1",
      turnId: T,
      files,
      hunks: statuses.map((status, i) => ({ hunkId: `h${i + 1}`, status })),
    });
    feed(transcript, [
      ["codex/turn/started", { threadId: "th", turnId: T }],
      ["codex/proposal/updated", proposal(["pending", "pending"])],
      ["codex/proposal/updated", proposal(["pending", "accepted"])],
    ]);
    assert.deepEqual(transcript.turns[0].entries, [
      { kind: "proposal", id: "p-1", files: ["app.py"], hunks: { pending: 1, accepted: 1 } },
    ]);
    feed(transcript, [["codex/proposal/updated", proposal(["rejected", "accepted"], [])]]);
    assert.deepEqual(transcript.turns[0].entries, [
      { kind: "proposal", id: "p-1", files: ["app.py"], hunks: { rejected: 1, accepted: 1 } },
    ]);
  });

  it(`keeps the last ${MAX_TURNS} turns`, () => {
    const transcript = new Transcript();
    for (let i = 0; i < MAX_TURNS + 3; i++) {
      transcript.handle("codex/turn/started", { threadId: "th", turnId: `t${i}` });
    }
    assert.equal(transcript.turns.length, MAX_TURNS);
    assert.equal(transcript.turns[0].turnId, "t3");
  });
});
