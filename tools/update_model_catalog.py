"""Rewrite codex_lsp/model/catalog.json from the pinned Codex (tests/peers): its bundled model catalog, cut
down to the fields that shape a request. tests/model/test_model_catalog.py fails until this is run after
the pin moves.

    .venv/bin/python tools/update_model_catalog.py
"""

from __future__ import annotations

import json

from codex_lsp.model.catalog import CATALOG_FILE, project
from codex_lsp.testing import codex_models


def main() -> None:
    version, raw = codex_models()
    CATALOG_FILE.write_text(json.dumps(project(raw, version), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {CATALOG_FILE} from {version}")


if __name__ == "__main__":
    main()
