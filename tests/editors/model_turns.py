"""The fake model's turns as the real-editor tests script them: a turn is a list of steps, a step the
model's output items (a message, an apply_patch call)."""

from __future__ import annotations

from typing import Any

from codex_lsp.testing import Script

__all__ = ["patch", "say", "script", "steps"]


def script(*turns: list[list[dict[str, Any]]]) -> Script:
    """A fake-model script: each turn a list of steps, each step the model's output items."""
    return steps(*([{"output": s} for s in t] for t in turns))


def steps(*turns: list[dict[str, Any]]) -> Script:
    """A fake-model script: each turn a list of whole steps (``{"output": [...], "delay_ms": ...}``)."""
    return Script.model_validate({"turns": [{"requests": list(t)} for t in turns]})


def patch(path: str, body: str) -> dict[str, Any]:
    """An apply_patch call updating ``path`` with the hunk ``body``."""
    text = f"*** Begin Patch\n*** Update File: {path}\n@@\n{body}*** End Patch\n"
    return {"type": "custom_tool_call", "name": "apply_patch", "input": text}


def say(text: str, phase: str = "final_answer") -> dict[str, Any]:
    """A message from the model (its final answer unless ``phase`` says otherwise)."""
    return {"type": "message", "text": text, "phase": phase}
