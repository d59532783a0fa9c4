"""A client on WebSocket never loads the HTTP stack (httpx and its dependencies, about 5 MB resident):
the language server keeps one client for its lifetime, and most providers never need HTTP."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import asyncio, sys
from codex_lsp.model import ModelClient, Prompt
from codex_lsp.testing import FakeResponsesServer
from codex_lsp.testing import Script

async def main():
    answer = {"output": [{"type": "message", "text": "hi"}]}
    script = Script.model_validate({"turns": [{"requests": [answer]}]})
    async with FakeResponsesServer(script) as fake, ModelClient(fake.model_settings()) as client:
        user = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hello"}]}
        events = [e.type async for e in client.new_turn().stream(Prompt(input=[user]))]
        assert events[-1] == "response.completed", events
    print(sorted(m for m in ("httpx", "httpcore", "anyio") if m in sys.modules))

asyncio.run(main())
"""


def test_a_turn_over_websocket_loads_no_http_stack() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"
