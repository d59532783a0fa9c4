// Bundles the extension (src/extension.ts -> dist/extension.js) or, with --tests, each unit test
// (test/*.test.ts -> build/test/*.test.js) with esbuild. `vscode` stays external: VS Code provides it, and the
// tests never load it (only src/vscodeapi.ts imports it).
import * as esbuild from "esbuild";
import { readdirSync, rmSync } from "node:fs";

const args = new Set(process.argv.slice(2));
const common = { bundle: true, platform: "node", format: "cjs", target: "node20", external: ["vscode"], logLevel: "warning" };

if (args.has("--tests")) {
  rmSync("build/test", { recursive: true, force: true });
  const tests = readdirSync("test").filter((name) => name.endsWith(".test.ts"));
  await esbuild.build({ ...common, entryPoints: tests.map((name) => `test/${name}`), outdir: "build/test", sourcemap: "inline" });
} else {
  const production = args.has("--production");
  await esbuild.build({
    ...common,
    entryPoints: ["src/extension.ts"],
    outfile: "dist/extension.js",
    minify: production,
    sourcemap: production ? false : "linked",
  });
}
