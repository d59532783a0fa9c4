import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { Command } from "../src/ids";
import { CLIENT_SETTINGS, SERVER_SETTINGS, needsRestart, serverSettings } from "../src/settings";

interface Manifest {
  contributes: {
    configuration: { properties: Record<string, { default: unknown }> };
    commands: Array<{ command: string; title: string; category: string }>;
    keybindings: Array<{ command: string; key: string }>;
  };
}

const manifest = JSON.parse(readFileSync("package.json", "utf8")) as Manifest;

describe("serverSettings", () => {
  it("nests dotted keys and sends every key, empty ones included", () => {
    const values: Record<string, unknown> = {
      model: "",
      provider: "openai",
      baseUrl: "http://127.0.0.1:9/v1",
      transport: "auto",
      reasoningEffort: "",
      editMode: "review",
      "shell.enabled": true,
      "shell.allow": ["pytest"],
      approvalPolicy: "deny",
    };
    assert.deepEqual(serverSettings((key) => values[key]), {
      model: "",
      provider: "openai",
      baseUrl: "http://127.0.0.1:9/v1",
      transport: "auto",
      reasoningEffort: "",
      editMode: "review",
      shell: { enabled: true, allow: ["pytest"] },
      approvalPolicy: "deny",
    });
  });

  it("leaves out what the editor does not know", () => {
    assert.deepEqual(serverSettings((key) => (key === "model" ? "gpt-5.5" : undefined)), { model: "gpt-5.5" });
  });

  it("sends the defaults package.json declares", () => {
    const props = manifest.contributes.configuration.properties;
    const sent = serverSettings((key) => props[`codex.${key}`]?.default);
    assert.deepEqual(sent, {
      model: "",
      provider: "",
      baseUrl: "",
      transport: "auto",
      reasoningEffort: "",
      editMode: "auto",
      shell: { enabled: false, allow: [] },
      approvalPolicy: "",
      alwaysAsk: { deletions: false, outsideOpenBuffers: false, paths: [] },
      editFallback: "none",
      showAnswers: "auto",
      asyncCommands: "auto",
    });
  });

  it("restarts the server only when the executable setting changes", () => {
    assert.equal(needsRestart((key) => key === "codex.server.path"), true);
    assert.equal(needsRestart((key) => key === "codex.model"), false);
  });
});

describe("package.json", () => {
  it("contributes exactly the server's settings and the extension's own", () => {
    const keys = Object.keys(manifest.contributes.configuration.properties).sort();
    const expected = [...SERVER_SETTINGS, ...CLIENT_SETTINGS].map((k) => `codex.${k}`).sort();
    assert.deepEqual(keys, expected);
  });

  it("contributes every command, none with a server command's id", () => {
    const ids = manifest.contributes.commands.map((c) => c.command).sort();
    assert.deepEqual(ids, Object.values(Command).sort());
    assert.ok(ids.every((id) => !id.startsWith("codex.")), "vscode-languageclient registers codex.* itself");
    const ask = manifest.contributes.commands.find((c) => c.command === Command.ask);
    assert.equal(`${ask?.category}: ${ask?.title}`, "Codex: Ask…");
  });

  it("binds a key to Ask", () => {
    assert.ok(manifest.contributes.keybindings.some((k) => k.command === Command.ask && k.key));
  });
});
