# Two entry points do all set-up on a fresh clone:
#   make demo   - create/refresh .venv and run the main job
#   make test   - create/refresh .venv (with dev tools), the reference peers, the editors the end-to-end
#                 tests drive and the VS Code extension, then lint, type-check and test
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.runtime-installed
DEV_STAMP := $(VENV)/.dev-installed
MUTATION_STAMP := $(VENV)/.mutation-installed
PEERS_STAMP := tests/peers/node_modules/.installed
CLIENTS_STAMP := tests/clients/node_modules/.installed
VSCODE_EXT := editors/vscode
VSCODE_STAMP := $(VSCODE_EXT)/node_modules/.installed

.PHONY: demo test test-editors lint bench clean system-deps editor-deps vscode-ext mutation

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(RUNTIME_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(RUNTIME_STAMP) $@

$(MUTATION_STAMP): pyproject.toml $(DEV_STAMP)
	$(BIN)/python -m pip install -q -e '.[dev,mutation]'
	touch $@

$(PEERS_STAMP): tests/peers/package.json tests/peers/package-lock.json
	cd tests/peers && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Third-party editor clients the end-to-end tests drive (CodeMirror's LSP client, the ACP TypeScript SDK).
$(CLIENTS_STAMP): tests/clients/package.json tests/clients/package-lock.json
	cd tests/clients && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(VSCODE_STAMP): $(VSCODE_EXT)/package.json $(VSCODE_EXT)/package-lock.json
	cd $(VSCODE_EXT) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The shell tool's sandbox (bubblewrap) and git are system packages; the sandbox tests must run.
system-deps:
	@missing=""; for tool in bwrap git; do command -v $$tool >/dev/null || missing="$$missing $$tool"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing bubblewrap and git (missing:$$missing)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap git >/dev/null; \
	  else \
	    echo "missing:$$missing; install them first (e.g. sudo apt-get install bubblewrap git)"; exit 1; \
	  fi; \
	fi

# What the real-editor tests (tests/editors) need outside the venv: Debian's Chromium and build headers (apt,
# as root), Node 24, code-server and vsce (npm), cached in $CODEX_LSP_CI_CACHE (default ~/.cache/codex-lsp-ci).
# About 3 minutes and 1.5 GB once; a cached rerun takes milliseconds.
editor-deps:
	bash tools/install-editor-deps.sh

# The VS Code extension: npm ci, tsc --noEmit, eslint, unit tests, then vsce package into
# editors/vscode/build/codex-lsp.vsix (installed by the end-to-end tests; see editors/vscode/README.md).
vscode-ext: $(VSCODE_STAMP) editor-deps
	bash $(VSCODE_EXT)/scripts/check.sh

demo: $(RUNTIME_STAMP)
	$(BIN)/codex-lsp --version
	$(BIN)/codex-lsp demo

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint $(PEERS_STAMP) $(CLIENTS_STAMP) system-deps editor-deps vscode-ext
	CODEX_LSP_REQUIRE_SANDBOX=1 CODEX_LSP_REQUIRE_EDITORS=1 $(BIN)/pytest -q

# Mutation testing of the modules listed in pyproject.toml [tool.mutmut] (see CONTRIBUTING.md). Incremental:
# verdicts are kept in mutants/ per function, so a rerun tries only the functions changed since.
# MUTATION_ARGS="--show" prints each unexplained survivor's change; "--fresh" starts over.
mutation: $(MUTATION_STAMP) $(PEERS_STAMP)
	$(BIN)/python tools/mutation/run.py $(MUTATION_ARGS)

# Only the end-to-end tests in real editors (Neovim, VS Code): the quick loop while working on editors/.
test-editors: $(DEV_STAMP) $(CLIENTS_STAMP) editor-deps vscode-ext
	CODEX_LSP_REQUIRE_EDITORS=1 $(BIN)/pytest -q -m editor

bench: $(DEV_STAMP) $(PEERS_STAMP)
	$(BIN)/python bench/patch_engine.py
	$(BIN)/python bench/stream.py
	$(BIN)/python bench/turn_cancel.py
	$(BIN)/python bench/acp.py
	$(BIN)/python bench/startup.py
	$(BIN)/python bench/code_action.py
	$(BIN)/python bench/turn_overhead.py
	$(BIN)/python bench/memory.py
	$(BIN)/python bench/resources.py

clean:
	rm -rf $(VENV) tests/peers/node_modules .mypy_cache .ruff_cache .pytest_cache mutants
	rm -rf $(VSCODE_EXT)/node_modules $(VSCODE_EXT)/dist $(VSCODE_EXT)/build
