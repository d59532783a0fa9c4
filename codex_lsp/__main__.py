"""Allow ``python -m codex_lsp``."""

from codex_lsp.cli import main

raise SystemExit(main())
