"""Fidelity against the official ``openai`` SDK: every event the fake emits validates against the SDK's
Responses server-event types, and the SDK's own Responses WebSocket client runs requests against it.

Known, deliberate exceptions (each asserted, so a new one fails the test):
- ``response.metadata``, ``codex.response.metadata`` and ``codex.rate_limits`` are Codex extensions the
  SDK does not model;
- ``response.failed`` codes that Codex classifies (context length, quota, overload…) are missing from the
  SDK's ``ResponseError.code`` enum; such events must validate once the code is replaced by a known one.
"""

from __future__ import annotations

import contextlib
import copy
import typing
from typing import Any

import pytest
from openai import AsyncOpenAI
from openai.lib.responses_websocket import AsyncResponsesWebSocketSession, ResponsesWebSocketLimits
from openai.types.responses import ResponseStreamEvent
from openai.types.responses.response_error import ResponseError
from openai.types.responses.responses_server_event import ResponsesServerEvent
from pydantic import BaseModel

from codex_lsp.model.errors import ModelError
from codex_lsp.model.retry import FATAL_CODES, OVERLOAD_CODES
from codex_lsp.testing import FakeResponsesServer, Script
from tests.model.conftest import ClientFactory
from tests.model.helpers import run, script, user

CODEX_EXTENSIONS = {"response.metadata", "codex.response.metadata", "codex.rate_limits"}
PATCH = "*** Begin Patch\n*** Add File: hello.txt\n+hello\n*** End Patch\n"
EVERYTHING: list[dict[str, Any]] = [
    {
        "output": [
            {"type": "reasoning", "summary": ["first I think", "then I act"], "encrypted_content": "opaque"},
            {"type": "message", "text": "Working on it.", "phase": "commentary"},
            {"type": "function_call", "name": "exec_command", "arguments": {"cmd": "ls -la"}},
            {"type": "custom_tool_call", "name": "apply_patch", "input": PATCH},
        ],
        "turn_state": "ts-1",
        "extra_turn_states": ["ts-1b"],
        "header_turn_state": "h-1",
        "rate_limits": True,
    },
    {
        "output": [{"type": "message", "text": "Done.", "phase": "final_answer"}],
        "metadata_event": "codex.response.metadata",
        "turn_state": "legacy",
    },
]
FAILURES = [
    {"kind": "failed", "code": code, "message": code, "after_events": 1}
    for code in sorted(FATAL_CODES | OVERLOAD_CODES | {"server_error", "rate_limit_exceeded"})
] + [
    {"kind": "incomplete", "after_events": 2},
    {"kind": "error_event", "code": "websocket_connection_limit_reached", "message": "limit"},
    {
        "kind": "status",
        "status": 429,
        "code": "rate_limit_exceeded",
        "message": "slow down",
        "retry_after": 0.001,
    },
]


def sdk_code_known(code: str) -> bool:
    """Whether the SDK's ``ResponseError.code`` enum lists ``code``."""
    return code in typing.get_args(ResponseError.model_fields["code"].annotation)


def sdk_types(union: Any) -> dict[str, type[BaseModel]]:
    """Event type string → the SDK model for it, from one of the SDK's annotated event unions."""
    members = typing.get_args(typing.get_args(union)[0])
    return {
        literal: cls for cls in members for literal in typing.get_args(cls.model_fields["type"].annotation)
    }


def check(types: dict[str, type[BaseModel]], event: dict[str, Any]) -> None:
    """Validate ``event`` strictly against its SDK model; apply the documented Codex-code exception."""
    if event["type"] == "response.failed" and not sdk_code_known(event["response"]["error"]["code"]):
        assert event["response"]["error"]["code"] in FATAL_CODES | OVERLOAD_CODES
        event = copy.deepcopy(event)
        event["response"]["error"]["code"] = "server_error"
    assert event["type"] in types, f"the SDK has no {event['type']} event"
    types[event["type"]].model_validate(event)


async def exercise(fake: FakeResponsesServer, make_client: ClientFactory, websockets: bool) -> None:
    """Drive every event kind and every in-stream failure through the fake with our client."""
    fake.load(script(EVERYTHING))
    client = make_client(websockets=websockets, prewarm=True, stream_max_retries=0)
    session = client.new_turn()
    history = [user("do everything")]
    await run(session, history)
    history.append({"type": "function_call_output", "call_id": history[-2]["call_id"], "output": "ok"})
    history.append({"type": "custom_tool_call_output", "call_id": history[-2]["call_id"], "output": "ok"})
    await run(session, history)
    for fault in FAILURES:
        fake.load(
            Script.model_validate(
                {
                    "turns": [
                        {"requests": [{"output": [{"type": "message", "text": "partial"}], "fault": fault}]}
                    ]
                }
            )
        )
        with contextlib.suppress(ModelError):  # fatal ones raise; retryable ones may fall back to HTTP
            await run(
                make_client(websockets=websockets, stream_max_retries=0, prewarm=False).new_turn(),
                [user("fail")],
            )


@pytest.mark.parametrize("websockets", [True, False], ids=["ws", "http"])
async def test_every_emitted_event_validates_against_the_sdk(
    fake: FakeResponsesServer, make_client: ClientFactory, websockets: bool
) -> None:
    await exercise(fake, make_client, websockets)
    types = sdk_types(ResponsesServerEvent if websockets else ResponseStreamEvent)
    emitted = [
        event for transport, event in fake.emitted if transport == ("websocket" if websockets else "http")
    ]
    kinds = {event["type"] for event in emitted}
    assert {
        "response.created",
        "response.completed",
        "response.output_text.delta",
        "response.failed",
        "response.custom_tool_call_input.delta",
        "response.function_call_arguments.delta",
        "response.reasoning_summary_text.delta",
        "response.incomplete",
        "error",
    } <= kinds
    assert kinds & CODEX_EXTENSIONS == CODEX_EXTENSIONS
    for event in emitted:
        if event["type"] not in CODEX_EXTENSIONS:
            check(types, event)


async def test_sdk_websocket_client_runs_requests_against_the_fake(fake: FakeResponsesServer) -> None:
    fake.load(script(EVERYTHING))
    limits = ResponsesWebSocketLimits(
        max_lanes=2,
        max_events_per_lane=512,
        max_events=1024,
        max_bytes_per_lane=1 << 24,
        max_bytes=1 << 25,
        max_response_bytes=None,
    )
    client = AsyncOpenAI(base_url=fake.base_url, api_key="sdk-key", max_retries=0)
    async with client.responses.connect() as connection:
        await connection.response.create(model="gpt-5.5", input="hello", store=False)
        seen: list[Any] = []
        while not seen or seen[-1].type != "response.completed":
            seen.append(await connection.recv())
        first_id = seen[-1].response.id
        async with AsyncResponsesWebSocketSession(connection, limits=limits) as lanes:
            await lanes.default.send(
                {
                    "type": "response.create",
                    "model": "gpt-5.5",
                    "previous_response_id": first_id,
                    "input": "continue",
                }
            )
            final = await lanes.default.get_final_response()
    await client.close()
    assert [o.type for o in seen[-1].response.output] == [
        "reasoning",
        "message",
        "function_call",
        "custom_tool_call",
    ]
    assert final.status == "completed"
    assert final.output[0].type == "message"
    assert fake.handshakes[0].headers["authorization"] == "Bearer sdk-key"
    first, second = fake.requests
    assert first.effective_input[0]["content"][0]["text"] == "hello"
    assert second.body["previous_response_id"] == first_id
    assert len(second.effective_input) == 1 + 4 + 1, "continuation resolved: input, 4 outputs, new input"
