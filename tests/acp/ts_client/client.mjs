// An ACP client written with the ACP TypeScript SDK (@agentclientprotocol/sdk, pinned in tests/clients),
// driving `codex-lsp acp` as an editor would. A plain ES module, no build step; the SDK is resolved from
// tests/clients/node_modules whatever the working directory:
//
//     node tests/acp/ts_client/client.mjs '<json config>'
//
// The config (JSON, first argument): {"command": [...], "cwd": "/abs/ws", "env": {...},
// "file": "/abs/ws/a.py", "buffer": "<the editor's unsaved text of file>", "mode": "review",
// "prompt": "...", "cancelPrompt": "..."}.
//
// What it does, in order: initialize (fs read + write, no terminal), session/new, read configOptions,
// set the mode with session/set_config_option, prompt (answering the permission request with the
// allow-once option, serving fs/read_text_file from its in-memory buffers, which differ from the disk,
// and taking fs/write_text_file into them, then saving as an editor does), prompt again and cancel it
// with session/cancel once the agent's first words arrive. It prints one JSON report on stdout; the
// pytest side (tests/acp/test_ts_sdk.py) checks it. Any failure: a message on stderr and exit status 1.

import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Readable, Writable } from "node:stream";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const clients = join(here, "..", "..", "clients");
const sdkEntry = createRequire(join(clients, "package.json")).resolve("@agentclientprotocol/sdk");
const acp = await import(pathToFileURL(sdkEntry).href);
const sdkVersion = JSON.parse(
  await readFile(join(clients, "node_modules", "@agentclientprotocol", "sdk", "package.json"), "utf8"),
).version;

const config = JSON.parse(process.argv[2]);
const deadline = setTimeout(() => fail(new Error("the scenario took longer than 40 s")), 40_000);

function fail(error) {
  process.stderr.write(`ts client: ${error.stack || error}\n`);
  process.exit(1);
}

const report = {
  sdkVersion,
  reads: [],
  writes: [],
  permissions: [],
  updates: [],
};
const buffers = new Map([[config.file, config.buffer]]);

const agentProcess = spawn(config.command[0], config.command.slice(1), {
  cwd: config.cwd,
  env: config.env,
  stdio: ["pipe", "pipe", "inherit"],
});
agentProcess.on("error", fail);
const stream = acp.ndJsonStream(Writable.toWeb(agentProcess.stdin), Readable.toWeb(agentProcess.stdout));

const app = acp
  .client({ name: "codex-lsp ts-sdk test client" })
  .onRequest(acp.methods.client.fs.readTextFile, async ({ params }) => {
    report.reads.push(params.path);
    if (buffers.has(params.path)) return { content: buffers.get(params.path) };
    return { content: await readFile(params.path, "utf8") };
  })
  .onRequest(acp.methods.client.fs.writeTextFile, async ({ params }) => {
    report.writes.push({ path: params.path, content: params.content });
    buffers.set(params.path, params.content);
    await writeFile(params.path, params.content, "utf8"); // the editor saves what it was given
    return {};
  })
  .onRequest(acp.methods.client.session.requestPermission, async ({ params }) => {
    const allow = params.options.find((option) => option.kind === "allow_once");
    report.permissions.push({
      title: params.toolCall.title,
      kinds: params.options.map((option) => option.kind),
      content: params.toolCall.content,
    });
    return { outcome: { outcome: "selected", optionId: allow.optionId } };
  });

async function untilStop(session, onUpdate) {
  for (;;) {
    const message = await session.nextUpdate();
    if (message.kind === "stop") return message.response;
    report.updates.push(message.update);
    if (onUpdate) await onUpdate(message.update);
  }
}

try {
  await app.connectWith(stream, async (ctx) => {
    report.initialize = await ctx.request(acp.methods.agent.initialize, {
      protocolVersion: acp.PROTOCOL_VERSION,
      clientCapabilities: { fs: { readTextFile: true, writeTextFile: true }, terminal: false },
      clientInfo: { name: "acp-typescript-sdk-test", version: sdkVersion },
    });
    const session = await ctx.buildSession(config.cwd).start();
    const created = session.newSessionResponse;
    report.configOptions = created.configOptions;
    report.modes = created.modes;

    const modeOption = created.configOptions.find((option) => option.category === "mode");
    const set = await ctx.request(acp.methods.agent.session.setConfigOption, {
      sessionId: session.sessionId,
      configId: modeOption.id,
      value: config.mode,
    });
    report.afterSet = set.configOptions;

    const first = session.prompt(config.prompt);
    report.firstStop = await untilStop(session);
    await first;
    report.bufferAfter = buffers.get(config.file);

    let cancelled = false;
    const second = session.prompt(config.cancelPrompt);
    report.secondStop = await untilStop(session, async (update) => {
      if (!cancelled && update.sessionUpdate === "agent_message_chunk") {
        cancelled = true;
        await ctx.notify(acp.methods.agent.session.cancel, { sessionId: session.sessionId });
      }
    });
    await second;
    report.cancelSent = cancelled;
    session.dispose();
  });
} catch (error) {
  fail(error);
}

agentProcess.stdin.end();
const exitCode = await new Promise((resolve) => agentProcess.on("exit", (code) => resolve(code)));
report.agentExit = exitCode;
clearTimeout(deadline);
process.stdout.write(JSON.stringify(report) + "\n");
