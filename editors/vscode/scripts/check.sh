#!/usr/bin/env bash
# Check and package the VS Code extension (what `make vscode-ext` runs after `npm ci`): type-check, lint,
# unit tests, then the production bundle packed into build/codex-lsp.vsix.
#
# Runs on the Node 24 and the vsce that `make editor-deps` caches (pins in tools/editor-deps.env), the same
# ones the end-to-end tests run VS Code with; nothing here reaches the network.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
repo=$(cd "$here/../.." && pwd)
declare -A pin
while IFS= read -r line || [ -n "$line" ]; do
  case $line in '' | '#'*) continue ;; esac
  pin[${line%%=*}]=${line#*=}
done <"$repo/tools/editor-deps.env"
cache=${CODEX_LSP_CI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/codex-lsp-ci}
node_bin=$cache/node-${pin[NODE_VERSION]}/bin
vsce=$cache/vsce-${pin[VSCE_VERSION]}/node_modules/.bin/vsce
[ -x "$node_bin/node" ] && [ -x "$vsce" ] || {
  echo "vscode-ext: Node ${pin[NODE_VERSION]} or vsce ${pin[VSCE_VERSION]} missing from $cache; run make editor-deps" >&2
  exit 1
}
export PATH="$node_bin:$PATH"
cd "$here"

step() { printf 'vscode-ext: %s\n' "$*" >&2; "$@"; }
step node_modules/.bin/tsc --noEmit
step node_modules/.bin/eslint --max-warnings 0 .
step node build.mjs --tests
step node --test --test-reporter=dot build/test/*.test.js
step node build.mjs --production
mkdir -p build
step "$vsce" package --no-dependencies --allow-missing-repository --out build/codex-lsp.vsix >/dev/null
echo "vscode-ext: built $here/build/codex-lsp.vsix" >&2
