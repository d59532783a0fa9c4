"""``codex-lsp acp`` reads lines a careless client writes and stays up: each line that breaks JSON-RPC's rules
is answered (``"id": null`` when no id can be read) and the next request is served as ever."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codex_lsp.acp.lines import Refused, check_line
from tests.acp.raw import initialize, line, raw_agent

INVALID_REQUEST, PARSE_ERROR = -32600, -32700


async def test_json_that_is_not_an_object_is_answered_and_the_agent_still_serves(tmp_path: Path) -> None:
    async with raw_agent(tmp_path) as agent:
        await agent.write(b"[1,2]\n", b"42\n", b'"text"\n', line(initialize(7)))
        answer = await agent.answer(7)
        status, stderr = await agent.finish()
    assert answer["result"]["agentInfo"]["name"] == "codex-lsp"
    refusals = agent.responses(None)
    assert [r["error"]["code"] for r in refusals] == [INVALID_REQUEST] * 3
    messages = [r["error"]["message"] for r in refusals]
    assert ["not an array" in messages[0], "not a number" in messages[1], "not a string" in messages[2]] == [
        True
    ] * 3
    assert status == 0
    assert "Traceback" not in stderr


async def test_a_line_that_is_not_json_is_answered_parse_error_and_the_agent_still_serves(
    tmp_path: Path,
) -> None:
    async with raw_agent(tmp_path) as agent:
        await agent.write(b"{not json\n", b"NaN\n", b"\xff\n", b"\n", line(initialize("after")))
        assert "result" in await agent.answer("after")
        status, stderr = await agent.finish()
    assert [r["error"]["code"] for r in agent.responses(None)] == [PARSE_ERROR] * 3
    assert status == 0
    assert "Traceback" not in stderr


@pytest.mark.parametrize(
    ("raw", "answer"),
    [
        (b'{"jsonrpc":"2.0","id":1,"method":"x"}', None),
        (b'{"jsonrpc":"2.0","id":null,"method":"x"}', None),
        (b'{"jsonrpc":"2.0","id":1,"result":{}}', None),
        (b'{"jsonrpc":"2.0","id":[1],"method":"x"}', (None, INVALID_REQUEST)),
        (b'{"jsonrpc":"2.0","id":true,"method":"x"}', (None, INVALID_REQUEST)),
        (b'{"jsonrpc":"2.0","id":3,"method":7}', (3, INVALID_REQUEST)),
        (b'{"jsonrpc":"2.0","method":7}', "dropped"),
        (b'{"jsonrpc":"2.0"}', (None, INVALID_REQUEST)),
        (b"[]", (None, INVALID_REQUEST)),
        (b"Infinity", (None, PARSE_ERROR)),
    ],
)
def test_check_line_keeps_json_rpc_rules(raw: bytes, answer: object) -> None:
    checked = check_line(raw)
    if answer is None:
        assert checked == json.loads(raw)
        return
    assert isinstance(checked, Refused)
    if answer == "dropped":
        assert checked.answer is None
        return
    assert checked.answer is not None
    assert (checked.answer["id"], checked.answer["error"]["code"]) == answer
