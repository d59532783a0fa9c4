"""Byte-budget helpers shared by the tools and the context builder.

Budgets are in UTF-8 bytes (what a request costs), but cuts must land on character boundaries so
the model never sees a half character. Text holding surrogates (which UTF-8 cannot encode, see
:mod:`codex_lsp.agent.unicode`) is measured and cut as if each were a three-byte character, never an
error: the thread escapes them when the text reaches it.
"""

from __future__ import annotations

__all__ = ["fence", "truncate_utf8", "utf8_len"]


def utf8_len(text: str) -> int:
    """The size of ``text`` encoded as UTF-8."""
    return len(text.encode("utf-8", "surrogatepass"))


def truncate_utf8(text: str, max_bytes: int) -> str:
    """The longest prefix of ``text`` whose UTF-8 encoding fits in ``max_bytes``."""
    data = text.encode("utf-8", "surrogatepass")
    if len(data) <= max_bytes:
        return text
    cut = max(max_bytes, 0)
    while 0 < cut < len(data) and data[cut] & 0xC0 == 0x80:  # inside a character: back to its start
        cut -= 1
    return data[:cut].decode("utf-8", "surrogatepass")


def fence(text: str, info: str = "") -> str:
    """``text`` in a Markdown code fence long enough that backticks inside cannot close it."""
    longest = run = 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    marker = "`" * max(3, longest + 1)
    body = text if text.endswith("\n") or not text else text + "\n"
    return f"{marker}{info}\n{body}{marker}"
