"""Wire helpers of the fake Responses server: a minimal HTTP/1.1 reader and writer, and error frames.

The fake parses requests itself (rather than through a framework) so that it can hand an upgrade request's
raw bytes to the sans-I/O WebSocket protocol and stream SSE with faults at any point.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

__all__ = ["error_frame", "input_items", "parse_head", "read_body", "reply", "status_line", "strip_ids"]


def input_items(value: Any) -> list[dict[str, Any]] | None:
    """The request's ``input`` as items; a plain string is one user message, as the API treats it."""
    if value is None:
        return []
    if isinstance(value, str):
        return [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": value}]}]
    if isinstance(value, list) and all(isinstance(item, dict) for item in value):
        return list(value)
    return None


def strip_ids(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in item.items() if k != "id"} for item in items]


def error_frame(
    status: int, code: str | None, message: str, retry_after: float | None = None
) -> dict[str, Any]:
    """A WebSocket ``error`` frame wrapping an HTTP status, as the Responses WebSocket API sends it."""
    headers = {"retry-after": f"{retry_after:g}"} if retry_after is not None else None
    error: dict[str, Any] = {
        "type": "invalid_request_error" if status < 500 else "server_error",
        "code": code,
        "message": message,
    }
    if headers:
        error["headers"] = headers
    frame: dict[str, Any] = {"type": "error", "status": status, "error": error}
    if headers:
        frame["headers"] = headers
    return frame


def parse_head(head: bytes) -> tuple[str, str, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = [*lines[0].split(" ", 2), "", ""][:3]
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            key = name.strip().lower()
            headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
    return method, path, headers


async def read_body(headers: dict[str, str], reader: asyncio.StreamReader) -> bytes:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                return body
            body += chunk[:-2]
    length = int(headers.get("content-length", "0") or "0")
    return await reader.readexactly(length) if length else b""


def status_line(status: int, headers: dict[str, str]) -> bytes:
    reasons = {
        200: "OK",
        400: "Bad Request",
        404: "Not Found",
        426: "Upgrade Required",
        429: "Too Many Requests",
        500: "Internal Server Error",
        503: "Service Unavailable",
    }
    lines = [
        f"HTTP/1.1 {status} {reasons.get(status, 'Status')}",
        *(f"{k}: {v}" for k, v in headers.items()),
        "connection: close",
        "",
        "",
    ]
    return "\r\n".join(lines).encode("latin-1")


async def reply(
    writer: asyncio.StreamWriter, status: int, body: dict[str, Any], extra: dict[str, str] | None = None
) -> None:
    payload = json.dumps(body).encode()
    headers = {"content-type": "application/json", "content-length": str(len(payload)), **(extra or {})}
    writer.write(status_line(status, headers) + payload)
    await writer.drain()
