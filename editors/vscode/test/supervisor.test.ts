import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Resolution } from "../src/serverCommand";
import { RestartPolicy, Supervisor, connectionFailed, type ManagedServer, type ServerState } from "../src/supervisor";
import { FakeClock, settle } from "./fakes";

describe("RestartPolicy", () => {
  it("doubles the delay with every quick crash, up to a cap, then gives up", () => {
    const policy = new RestartPolicy({ firstDelayMs: 1000, maxDelayMs: 5000, healthyAfterMs: 60_000, maxQuickCrashes: 5 });
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map(() => policy.next(10)),
      [1000, 2000, 4000, 5000, 5000, undefined],
    );
  });

  it("starts over after a server that ran long enough", () => {
    const policy = new RestartPolicy();
    policy.next(10);
    policy.next(10);
    assert.equal(policy.next(60_000), 1000);
  });
});

describe("connectionFailed", () => {
  it("lets three failures in a row pass, then stops the client and reports the server gone", () => {
    const reported: string[] = [];
    const exited = (reason: string) => reported.push(reason);
    assert.deepEqual([1, 2, 3].map((count) => connectionFailed(count, "EPIPE", exited)), ["continue", "continue", "continue"]);
    assert.deepEqual(reported, [], "a write failing while the server exits is not yet a crash");
    assert.equal(connectionFailed(4, "write EPIPE", exited), "shutdown");
    // The client that stops itself skips its close handler: without this, a crashed server stayed down.
    assert.deepEqual(reported, ["the connection failed: write EPIPE"]);
  });

  it("stops and reports when the client gives no count", () => {
    const reported: string[] = [];
    assert.equal(connectionFailed(undefined, "reset", (reason) => reported.push(reason)), "shutdown");
    assert.deepEqual(reported, ["the connection failed: reset"]);
  });
});

/** How many fake servers run at once (stopping one takes a few turns of the event loop). */
const Live = { now: 0, most: 0, slowStop: false };

class FakeServer implements ManagedServer {
  started = 0;
  disposed = false;
  failStart: Error | undefined;
  constructor(readonly exited: (reason: string) => void) {}
  start(): Promise<void> {
    this.started++;
    if (this.failStart) {
      return Promise.reject(this.failStart);
    }
    Live.now++;
    Live.most = Math.max(Live.most, Live.now);
    return Promise.resolve();
  }
  async dispose(): Promise<void> {
    if (!this.disposed && this.started > 0 && !this.failStart) {
      if (Live.slowStop) {
        await settle();
      }
      Live.now--;
    }
    this.disposed = true;
  }
}

function harness(resolution: Resolution = { command: "/bin/codex-lsp", source: "path" }) {
  Live.now = 0;
  Live.most = 0;
  Live.slowStop = false;
  const clock = new FakeClock();
  const servers: FakeServer[] = [];
  const states: ServerState[] = [];
  const logs: string[] = [];
  let failNext: Error | undefined;
  const supervisor = new Supervisor({
    resolve: () => Promise.resolve(resolution),
    create: (_command, exited) => {
      const server = new FakeServer(exited);
      server.failStart = failNext;
      failNext = undefined;
      servers.push(server);
      return server;
    },
    clock,
    onState: (state) => states.push(state),
    log: (line) => logs.push(line),
  });
  return { clock, servers, states, logs, supervisor, failNextStart: (e: Error) => (failNext = e) };
}

describe("Supervisor", () => {
  it("starts the resolved server", async () => {
    const h = harness();
    await h.supervisor.start();
    assert.deepEqual(h.supervisor.state, { kind: "running", command: "/bin/codex-lsp", source: "path" });
    assert.equal(h.servers[0].started, 1);
    assert.deepEqual(h.states.map((s) => s.kind), ["starting", "running"]);
  });

  it("restarts a crashed server with a fresh client after a growing delay", async () => {
    const h = harness();
    await h.supervisor.start();
    h.servers[0].exited("the process exited");
    assert.deepEqual(h.supervisor.state, { kind: "restarting", inMs: 1000, reason: "the process exited" });
    h.clock.advance(999);
    assert.equal(h.servers.length, 1);
    h.clock.advance(1);
    await settle();
    assert.equal(h.servers.length, 2);
    assert.equal(h.servers[0].disposed, true);
    assert.equal(h.supervisor.state.kind, "running");
    h.servers[1].exited("the process exited");
    assert.deepEqual(h.supervisor.state, { kind: "restarting", inMs: 2000, reason: "the process exited" });
  });

  it("counts a failed start as a crash, once even when the client also reports the close", async () => {
    const h = harness();
    h.failNextStart(new Error("spawn EACCES"));
    await h.supervisor.start();
    h.servers[0].exited("the process exited"); // the same exit, reported a second time
    assert.deepEqual(h.supervisor.state, { kind: "restarting", inMs: 1000, reason: "it did not start: spawn EACCES" });
    assert.equal(h.clock.pending, 1);
  });

  it("gives up after five quick crashes in a row until the user restarts it", async () => {
    const h = harness();
    await h.supervisor.start();
    for (let i = 0; i < 5; i++) {
      h.servers[h.servers.length - 1].exited("the process exited");
      h.clock.advance(30_000);
      await settle();
    }
    h.servers[h.servers.length - 1].exited("the process exited");
    assert.equal(h.supervisor.state.kind, "failed");
    assert.match((h.supervisor.state as { message: string }).message, /stopped 6 times in a row .*Codex: Restart Server/);
    assert.equal(h.clock.pending, 0);
    await h.supervisor.restart();
    assert.equal(h.supervisor.state.kind, "running");
    h.servers[h.servers.length - 1].exited("the process exited");
    assert.deepEqual(h.supervisor.state, { kind: "restarting", inMs: 1000, reason: "the process exited" });
  });

  it("stops the old server before it starts a new one, however the restarts overlap", async () => {
    const h = harness();
    await h.supervisor.start();
    Live.slowStop = true;
    await Promise.all([h.supervisor.restart(), h.supervisor.restart(), h.supervisor.start()]);
    assert.equal(h.servers.length, 4);
    assert.equal(Live.most, 1, "never two servers at once");
    assert.deepEqual(h.servers.map((s) => s.disposed), [true, true, true, false]);
    assert.equal(h.supervisor.state.kind, "running");
  });

  it("does not restart what it stopped", async () => {
    const h = harness();
    await h.supervisor.start();
    h.servers[0].exited("the process exited");
    await h.supervisor.stop();
    h.clock.advance(60_000);
    await settle();
    assert.equal(h.servers.length, 1);
    assert.deepEqual(h.supervisor.state, { kind: "stopped" });
  });

  it("reports a server that cannot be found, without retrying", async () => {
    const h = harness({ error: "codex-lsp was not found" });
    await h.supervisor.start();
    assert.deepEqual(h.supervisor.state, { kind: "failed", message: "codex-lsp was not found" });
    assert.equal(h.clock.pending, 0);
    assert.deepEqual(h.logs, ["codex-lsp: codex-lsp was not found"]);
  });

  it("lets commands wait for a server that is starting", async () => {
    const h = harness();
    const starting = h.supervisor.start();
    let settled = false;
    const waiting = h.supervisor.settled().then(() => (settled = true));
    await settle();
    await starting;
    await waiting;
    assert.equal(settled, true);
    assert.equal(h.supervisor.state.kind, "running");
  });
});
