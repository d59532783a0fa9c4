"""Helpers shared by the model tests: input items, scripts, and running one request as the agent would."""

from __future__ import annotations

from typing import Any

from codex_lsp.model import ModelClient, Prompt, TurnSession
from codex_lsp.model.retry import RetryPolicy
from codex_lsp.model.session import StreamEvent
from codex_lsp.testing import Script

FAST = RetryPolicy(base_delay=0.001, overload_delays=(0.0, 0.001, 0.001, 0.001, 0.001))
API_KEY = "sk-test-0123456789abcdef-SECRET"


def user(text: str) -> dict[str, Any]:
    """A user message input item."""
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


def developer(text: str) -> dict[str, Any]:
    """A developer message input item (Codex's base instructions travel this way)."""
    return {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": text}]}


async def run(session: TurnSession, history: list[dict[str, Any]], **kwargs: Any) -> list[StreamEvent]:
    """Stream one request with ``history`` and append its output items to it, as the agent would."""
    events = [event async for event in session.stream(Prompt(input=list(history)), **kwargs)]
    history.extend(e.item.as_input() for e in events if e.type == "response.output_item.done")
    return events


def script(*turns: list[dict[str, Any]], **extra: Any) -> Script:
    """A script from turns given as lists of step dicts."""
    return Script.model_validate({"turns": [{"requests": steps} for steps in turns], **extra})


def say(text: str, **step: Any) -> dict[str, Any]:
    """A step answering with one assistant message."""
    return {"output": [{"type": "message", "text": text}], **step}


def texts(events: list[StreamEvent]) -> str:
    """The assistant text the events carried."""
    return "".join(e.delta for e in events if e.type == "response.output_text.delta")


async def two_request_turns(client: ModelClient, *texts: str) -> None:
    """One logical turn per text, each a request and a same-turn follow-up (as after a tool call)."""
    for text in texts:
        session = client.new_turn()
        history = [user(text)]
        await run(session, history)
        history.append(user("tool output"))
        await run(session, history)
