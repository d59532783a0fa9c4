/**
 * Which `codex-lsp` to start: the `codex.server.path` setting when set; else the one installed in the Python
 * environment selected in the Python extension (when that extension is there); else `codex-lsp` on `PATH`.
 * A setting that names no executable is an error of its own: it never silently falls back to another server.
 */
import * as path from "node:path";

export interface ServerLookup {
  /** `codex.server.path`: empty, a bare name looked up on PATH, or a path (`~` and relative ones allowed). */
  configured: string;
  /** The interpreter of the selected Python environment; undefined without the Python extension. */
  pythonInterpreter(): Promise<string | undefined>;
  pathVariable: string;
  platform: NodeJS.Platform;
  home: string;
  /** Relative `codex.server.path` values are taken from here. */
  workspaceFolder?: string;
  isExecutable(file: string): Promise<boolean>;
}

export type ServerSource = "setting" | "python" | "path";
export type Resolution = { command: string; source: ServerSource } | { error: string };

export const EXECUTABLE = "codex-lsp";
const INSTALL_HINT = `install it (pip install codex-lsp) or set "codex.server.path"`;

function executableNames(platform: NodeJS.Platform, name: string): string[] {
  return platform === "win32" ? [`${name}.exe`, `${name}.cmd`, name] : [name];
}

async function firstExecutable(lookup: ServerLookup, files: string[]): Promise<string | undefined> {
  for (const file of files) {
    if (await lookup.isExecutable(file)) {
      return file;
    }
  }
  return undefined;
}

function pathApi(platform: NodeJS.Platform): path.PlatformPath {
  return platform === "win32" ? path.win32 : path.posix;
}

async function onPath(lookup: ServerLookup, name: string): Promise<string | undefined> {
  const api = pathApi(lookup.platform);
  const folders = lookup.pathVariable.split(lookup.platform === "win32" ? ";" : ":").filter(Boolean);
  const names = executableNames(lookup.platform, name);
  return firstExecutable(
    lookup,
    folders.flatMap((folder) => names.map((n) => api.join(folder, n))),
  );
}

async function inPythonEnvironment(lookup: ServerLookup): Promise<string | undefined> {
  let interpreter: string | undefined;
  try {
    interpreter = await lookup.pythonInterpreter();
  } catch {
    return undefined; // the Python extension failed: fall back to PATH
  }
  if (!interpreter) {
    return undefined;
  }
  const api = pathApi(lookup.platform);
  const folder = api.dirname(interpreter);
  // venvs keep scripts next to the interpreter; conda on Windows keeps them in Scripts\.
  const folders = lookup.platform === "win32" ? [folder, api.join(folder, "Scripts")] : [folder];
  const names = executableNames(lookup.platform, EXECUTABLE);
  return firstExecutable(
    lookup,
    folders.flatMap((f) => names.map((n) => api.join(f, n))),
  );
}

function expand(lookup: ServerLookup, configured: string): string {
  const api = pathApi(lookup.platform);
  let file = configured;
  if (file === "~" || file.startsWith("~/") || file.startsWith("~\\")) {
    file = api.join(lookup.home, file.slice(1));
  }
  if (!api.isAbsolute(file) && lookup.workspaceFolder) {
    file = api.join(lookup.workspaceFolder, file);
  }
  return file;
}

/** Find the server to start, or say in one line why there is none. */
export async function resolveServer(lookup: ServerLookup): Promise<Resolution> {
  const configured = lookup.configured.trim();
  if (configured) {
    const bareName = !/[\\/]/.test(configured) && !configured.startsWith("~");
    const found = bareName ? await onPath(lookup, configured) : await firstExecutable(lookup, [expand(lookup, configured)]);
    return found
      ? { command: found, source: "setting" }
      : { error: `codex.server.path is "${configured}", which is not an executable file` };
  }
  const fromPython = await inPythonEnvironment(lookup);
  if (fromPython) {
    return { command: fromPython, source: "python" };
  }
  const fromPath = await onPath(lookup, EXECUTABLE);
  if (fromPath) {
    return { command: fromPath, source: "path" };
  }
  return { error: `${EXECUTABLE} was not found in the selected Python environment or on PATH: ${INSTALL_HINT}` };
}
