"""Text every encoder accepts: code points UTF-8 cannot carry are escaped, never fatal.

A Python string may hold surrogates (U+D800–U+DFFF), which no UTF-8 encoder accepts. They arrive
from everywhere a turn takes text: JSON's ``"\\ud800"`` escape in a prompt, a buffer or the model's
own stream decodes to a lone one; a file name that is not UTF-8 (a Latin-1 ``café``) comes out of
``os.listdir`` with ``surrogateescape``, its byte ``0xE9`` as ``\\udce9``. Written as they are, they
fail the JSON dump of a thread record or a proposal.

:func:`escape_surrogates` makes such text encodable and still readable: a high surrogate followed
by a low one becomes the character the pair stands for; a surrogate that stood for a byte
(U+DC80–U+DCFF, ``surrogateescape``) becomes ``\\xNN``; any other lone surrogate ``\\uXXXX`` — the
spellings Python's ``backslashreplace`` uses. Everything else is left as it is, so clean text
(nearly all of it) is returned unchanged, the same object, after one scan.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["escape_json", "escape_surrogates"]

_SURROGATES = re.compile("[\ud800-\udbff][\udc00-\udfff]|[\ud800-\udfff]")


def _replace(match: re.Match[str]) -> str:
    found = match.group()
    if len(found) == 2:
        high, low = ord(found[0]) - 0xD800, ord(found[1]) - 0xDC00
        return chr(0x10000 + (high << 10) + low)
    code = ord(found)
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"
    return f"\\u{code:04x}"


def escape_surrogates(text: str) -> str:
    """``text`` with its surrogates escaped (see the module docstring); ``text`` itself when it has none."""
    if text.isascii() or _SURROGATES.search(text) is None:
        return text
    return _SURROGATES.sub(_replace, text)


def escape_json(value: Any) -> Any:
    """A JSON-like value (dicts, lists, strings, numbers…) with every string and key escaped."""
    if isinstance(value, str):
        return escape_surrogates(value)
    if isinstance(value, dict):
        return {escape_surrogates(k) if isinstance(k, str) else k: escape_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [escape_json(v) for v in value]
    return value
