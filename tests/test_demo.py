"""The README's main job: ``codex-lsp demo`` fixes a real bug offline and the fixed code runs."""

from __future__ import annotations

import os
import subprocess
import sys


def test_demo_fixes_the_bug_offline() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "CODEX_HOME")}
    done = subprocess.run(
        [sys.executable, "-m", "codex_lsp", "demo"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "[codex] patched: M stats.py" in done.stdout
    assert "-    return sum(values) / len(value)\n+    return sum(values) / len(values)\n" in done.stdout
    assert "Turn completed (websocket, 1 handshake(s)" in done.stdout
    assert "mean([1, 2, 3, 4]) = 2.5" in done.stdout
