import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Transcript } from "../src/transcript";
import { FRAME_MS, TranscriptFeed, makeNonce, transcriptHtml, type ToWebview } from "../src/transcriptView";
import { FakeClock } from "./fakes";

describe("transcriptHtml", () => {
  it("allows only its own script, by nonce, and no network", () => {
    const nonce = makeNonce();
    assert.match(nonce, /^[A-Za-z0-9]{32}$/);
    const html = transcriptHtml({ cspSource: "vscode-resource:", nonce, scriptUri: "vscode-resource:/t.js", styleUri: "vscode-resource:/t.css" });
    const csp = /Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1] ?? "";
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, new RegExp(`script-src 'nonce-${nonce}'`));
    assert.doesNotMatch(csp, /unsafe/);
    assert.match(html, new RegExp(`<script nonce="${nonce}" src="vscode-resource:/t.js">`));
  });
});

describe("TranscriptFeed", () => {
  it("posts at most once a frame, only the turns that changed", () => {
    const transcript = new Transcript();
    const clock = new FakeClock();
    const feed = new TranscriptFeed(transcript, clock);
    const posted: ToWebview[] = [];
    feed.attach((message) => posted.push(message));
    feed.flush(); // the page said it is ready
    transcript.handle("codex/turn/started", { threadId: "th", turnId: "a" });
    transcript.handle("codex/turn/started", { threadId: "th", turnId: "b" });
    transcript.handle("codex/item/agentMessage/delta", { turnId: "b", itemId: "m", delta: "x" });
    clock.advance(FRAME_MS);
    transcript.handle("codex/item/agentMessage/delta", { turnId: "b", itemId: "m", delta: "y" });
    clock.advance(FRAME_MS);
    assert.deepEqual(
      posted.map((m) => [m.order, m.changed.map((t) => t.turnId)]),
      [
        [[], []],
        [["a", "b"], ["a", "b"]],
        [["a", "b"], ["b"]],
      ],
    );
    assert.deepEqual(posted[2].changed[0].entries, [{ kind: "message", id: "m", text: "xy" }]);
  });

  it("sends everything again to a new page, and nothing while there is none", () => {
    const transcript = new Transcript();
    const clock = new FakeClock();
    const feed = new TranscriptFeed(transcript, clock);
    transcript.handle("codex/turn/started", { threadId: "th", turnId: "a" });
    assert.equal(clock.pending, 0);
    const posted: ToWebview[] = [];
    feed.attach((message) => posted.push(message));
    feed.flush();
    feed.detach();
    feed.attach((message) => posted.push(message));
    feed.flush();
    assert.deepEqual(posted.map((m) => m.changed.length), [1, 1]);
  });
});
