"""The fake server's own contract: strict scripts, continuation scoped to a socket, plain HTTP errors."""

from __future__ import annotations

import json

import httpx
import pydantic
import pytest
from websockets.asyncio.client import connect

from codex_lsp.testing import FakeResponsesServer, Script
from tests.model.helpers import say, script, user


def test_script_typos_are_rejected() -> None:
    with pytest.raises(pydantic.ValidationError, match="outputs"):
        Script.model_validate({"turns": [{"requests": [{"outputs": []}]}]})
    with pytest.raises(pydantic.ValidationError, match="kind"):
        Script.model_validate({"turns": [{"requests": [{"fault": {"kind": "explode"}}]}]})


async def test_continuation_is_scoped_to_the_socket(fake: FakeResponsesServer) -> None:
    fake.load(script([say("one"), say("two")]))
    frame = {"type": "response.create", "model": "m", "input": [user("hi")]}
    async with connect(f"ws://127.0.0.1:{fake.port}/v1/responses") as ws:
        await ws.send(json.dumps(frame))
        while (event := json.loads(await ws.recv()))["type"] != "response.completed":
            pass
        first_id = event["response"]["id"]
    async with connect(f"ws://127.0.0.1:{fake.port}/v1/responses") as ws:
        await ws.send(json.dumps({**frame, "previous_response_id": first_id, "input": []}))
        error = json.loads(await ws.recv())
    assert error["type"] == "error"
    assert error["status"] == 400
    assert error["error"]["code"] == "previous_response_not_found"
    assert fake.pending_steps == 1, "a refused request consumes no step"


async def test_http_side_refuses_what_it_should(fake: FakeResponsesServer) -> None:
    fake.load(script([say("only")]))
    async with httpx.AsyncClient(base_url=fake.base_url, trust_env=False) as http:
        missing = await http.get("/models")
        chained = await http.post("/responses", json={"model": "m", "input": [], "previous_response_id": "r"})
        fine = await http.post("/responses", json={"model": "m", "input": "hi"})
        extra = await http.post("/responses", json={"model": "m", "input": "again"})
    assert missing.status_code == 404
    assert fake.other_requests == [("GET", "/v1/models")]
    assert chained.status_code == 400
    assert fine.headers["content-type"] == "text/event-stream"
    assert '"response.completed"' in fine.text
    assert "script is exhausted" in extra.text
    assert fake.unscripted == 1
