import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { resolveServer, type ServerLookup } from "../src/serverCommand";

function lookup(executables: string[], overrides: Partial<ServerLookup> = {}): ServerLookup {
  return {
    configured: "",
    pythonInterpreter: () => Promise.resolve(undefined),
    pathVariable: "/usr/local/bin:/usr/bin",
    platform: "linux",
    home: "/home/me",
    workspaceFolder: "/work",
    isExecutable: (file) => Promise.resolve(executables.includes(file)),
    ...overrides,
  };
}

describe("resolveServer", () => {
  it("takes codex-lsp from PATH by default", async () => {
    assert.deepEqual(await resolveServer(lookup(["/usr/bin/codex-lsp"])), { command: "/usr/bin/codex-lsp", source: "path" });
  });

  it("prefers the selected Python environment over PATH", async () => {
    const found = await resolveServer(
      lookup(["/usr/bin/codex-lsp", "/work/.venv/bin/codex-lsp"], {
        pythonInterpreter: () => Promise.resolve("/work/.venv/bin/python"),
      }),
    );
    assert.deepEqual(found, { command: "/work/.venv/bin/codex-lsp", source: "python" });
  });

  it("falls back to PATH when the environment has no codex-lsp, or the Python extension fails", async () => {
    const without = lookup(["/usr/bin/codex-lsp"], { pythonInterpreter: () => Promise.resolve("/opt/py/bin/python3") });
    assert.deepEqual(await resolveServer(without), { command: "/usr/bin/codex-lsp", source: "path" });
    const failing = lookup(["/usr/bin/codex-lsp"], { pythonInterpreter: () => Promise.reject(new Error("not activated")) });
    assert.deepEqual(await resolveServer(failing), { command: "/usr/bin/codex-lsp", source: "path" });
  });

  it("uses the setting, and never another server when the setting names none", async () => {
    assert.deepEqual(await resolveServer(lookup(["/opt/codex-lsp"], { configured: "/opt/codex-lsp" })), {
      command: "/opt/codex-lsp",
      source: "setting",
    });
    const missing = await resolveServer(lookup(["/usr/bin/codex-lsp"], { configured: "/opt/missing" }));
    assert.deepEqual(missing, { error: 'codex.server.path is "/opt/missing", which is not an executable file' });
  });

  it("expands ~, resolves relative paths in the workspace and bare names on PATH", async () => {
    const home = await resolveServer(lookup(["/home/me/.local/bin/codex-lsp"], { configured: "~/.local/bin/codex-lsp" }));
    assert.deepEqual(home, { command: "/home/me/.local/bin/codex-lsp", source: "setting" });
    const relative = await resolveServer(lookup(["/work/.venv/bin/codex-lsp"], { configured: ".venv/bin/codex-lsp" }));
    assert.deepEqual(relative, { command: "/work/.venv/bin/codex-lsp", source: "setting" });
    const bare = await resolveServer(lookup(["/usr/local/bin/my-codex"], { configured: "my-codex" }));
    assert.deepEqual(bare, { command: "/usr/local/bin/my-codex", source: "setting" });
  });

  it("says how to install it when there is none", async () => {
    const none = await resolveServer(lookup([]));
    assert.ok("error" in none);
    assert.match(none.error, /codex-lsp was not found in the selected Python environment or on PATH/);
    assert.match(none.error, /pip install codex-lsp/);
  });

  it("knows Windows' .exe names, Scripts folders and ; separators", async () => {
    const windows = (executables: string[], interpreter?: string): ServerLookup =>
      lookup(executables, {
        platform: "win32",
        pathVariable: "C:\\tools;C:\\bin",
        pythonInterpreter: () => Promise.resolve(interpreter),
      });
    assert.deepEqual(await resolveServer(windows(["C:\\bin\\codex-lsp.exe"])), { command: "C:\\bin\\codex-lsp.exe", source: "path" });
    assert.deepEqual(await resolveServer(windows(["C:\\conda\\Scripts\\codex-lsp.exe"], "C:\\conda\\python.exe")), {
      command: "C:\\conda\\Scripts\\codex-lsp.exe",
      source: "python",
    });
  });
});
