/**
 * The server's settings as VS Code holds them (`codex.*` in settings.json) and as codex-lsp reads them: the
 * same object goes out as `initializationOptions` and as the answer to `workspace/configuration` for the
 * `codex` section. Every key is sent, empty ones too: codex-lsp lays the section over the initialization
 * options key by key, and an empty value is how a cleared setting goes back to `$CODEX_HOME/config.toml`.
 */

export const SECTION = "codex";

/** Every setting codex-lsp reads, as dotted keys under `codex.` (package.json contributes each). */
export const SERVER_SETTINGS = [
  "model",
  "provider",
  "baseUrl",
  "transport",
  "reasoningEffort",
  "editMode",
  "shell.enabled",
  "shell.allow",
  "approvalPolicy",
  "alwaysAsk.deletions",
  "alwaysAsk.outsideOpenBuffers",
  "alwaysAsk.paths",
  "editFallback",
  "showAnswers",
  "asyncCommands",
] as const;

/** Settings only the extension reads. */
export const CLIENT_SETTINGS = ["server.path", "trace.server"] as const;

export type SettingReader = (key: string) => unknown;

/** The settings object codex-lsp expects, e.g. `{model: "gpt-5.5", shell: {enabled: false, allow: []}}`. */
export function serverSettings(read: SettingReader): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const key of SERVER_SETTINGS) {
    const value = read(key);
    if (value === undefined) {
      continue;
    }
    const path = key.split(".");
    let node = result;
    for (const part of path.slice(0, -1)) {
      node[part] ??= {};
      node = node[part] as Record<string, unknown>;
    }
    node[path[path.length - 1]] = value;
  }
  return result;
}

/** Whether a settings change means the server must be started again (which executable runs). */
export function needsRestart(affects: (key: string) => boolean): boolean {
  return affects(`${SECTION}.server.path`);
}
