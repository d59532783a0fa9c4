"""The one event parser both transports share."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from codex_lsp.model.errors import ProtocolError
from codex_lsp.model.events import (
    ErrorEvent,
    OutputItemDone,
    ResponseCompleted,
    ResponseMetadata,
    parse_event,
)
from codex_lsp.model.http_transport import sse_payloads


def test_unknown_types_and_non_json_are_ignored() -> None:
    assert parse_event('{"type": "response.brand_new", "x": 1}') is None
    assert parse_event("{not json") is None
    assert parse_event(b"\xff\xfe") is None
    assert parse_event("[1, 2]") is None


def test_known_event_that_does_not_validate_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError, match=r"response\.output_text\.delta"):
        parse_event('{"type": "response.output_text.delta"}')


def test_completed_carries_id_and_usage() -> None:
    event = parse_event(
        json.dumps(
            {
                "type": "response.completed",
                "response": {"id": "r1", "usage": {"input_tokens": 3, "output_tokens": 4, "total_tokens": 7}},
            }
        )
    )
    assert isinstance(event, ResponseCompleted)
    assert event.response.id == "r1"
    assert event.response.usage is not None
    assert event.response.usage.total_tokens == 7


def test_metadata_header_lookup_is_case_insensitive_and_takes_first_of_array() -> None:
    event = parse_event(
        json.dumps(
            {
                "type": "codex.response.metadata",
                "headers": {"X-Codex-Turn-State": ["tok", "other"], "OpenAI-Model": "gpt-x"},
            }
        )
    )
    assert isinstance(event, ResponseMetadata)
    assert (event.turn_state, event.server_model) == ("tok", "gpt-x")


def test_items_echo_back_without_ids() -> None:
    item = {"type": "custom_tool_call", "id": "ctc_1", "call_id": "c", "name": "apply_patch", "input": "p"}
    event = parse_event(json.dumps({"type": "response.output_item.done", "item": item}))
    assert isinstance(event, OutputItemDone)
    assert event.item.as_input() == {
        "type": "custom_tool_call",
        "call_id": "c",
        "name": "apply_patch",
        "input": "p",
    }


def test_error_event_forms() -> None:
    nested = parse_event(
        '{"type":"error","status":429,"error":{"code":"c","message":"m","headers":{"a":"1"}}}'
    )
    flat = parse_event('{"type":"error","code":"c2","message":"m2"}')
    assert isinstance(nested, ErrorEvent)
    assert isinstance(flat, ErrorEvent)
    assert (nested.http_status, nested.error_code, nested.error_headers) == (429, "c", {"a": "1"})
    assert (flat.http_status, flat.error_code, flat.error_message) == (None, "c2", "m2")


async def test_sse_payloads_join_data_lines_and_skip_comments() -> None:
    async def lines() -> AsyncIterator[str]:
        for line in [": comment", "event: x", 'data: {"a":', "data: 1}", "", "data: last"]:
            yield line

    assert [p async for p in sse_payloads(lines())] == ['{"a":\n1}', "last"]
