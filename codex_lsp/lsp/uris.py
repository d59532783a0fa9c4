"""``file:`` URIs to paths, strictly: a URI that names no usable local path is refused with the reason.

pygls' ``to_fs_path`` decodes leniently — ``%00`` becomes a NUL that fails deep inside ``os`` with a
traceback, bytes that are not UTF-8 become U+FFFD (another file's name), ``;`` starts URI "parameters"
that silently cut the file name short, ``file:relative`` is relative to the server's own directory and
``file://host/x`` becomes a local path. Every request and notification that names a document goes
through :func:`file_path` instead, so a malformed URI is one clear :class:`BadUri` (the client gets
``InvalidParams``), never an internal error.

Paths are POSIX paths, as everywhere in codex-lsp. :func:`real_path` resolves ``..``, percent-encoded
dots and symbolic links once (``os.path.realpath``), so every decision about where a file is (which
workspace folder holds it) is made on the file that would really be read or written.
"""

from __future__ import annotations

import os
from urllib.parse import unquote_to_bytes, urlsplit

__all__ = ["BadUri", "file_path", "real_path"]

_LOCAL_HOSTS = ("", "localhost")


class BadUri(ValueError):
    """A ``file:`` URI that names no local file path; the message says which URI and why."""


def file_path(uri: str) -> str | None:
    """The absolute path a ``file:`` URI names, decoded but not resolved; ``None`` for other schemes
    (``untitled:`` buffers and the like). Raises :class:`BadUri` for a ``file:`` URI that names no
    usable path."""
    parts = urlsplit(uri)
    if parts.scheme.lower() != "file":
        return None
    if parts.netloc.lower() not in _LOCAL_HOSTS:
        raise BadUri(f"{uri!r} names a file on another host ({parts.netloc})")
    if parts.query or parts.fragment:
        raise BadUri(f"{uri!r} has a query or a fragment; a file URI names a path only")
    raw = unquote_to_bytes(parts.path)
    if b"\0" in raw:
        raise BadUri(f"{uri!r} contains a NUL character (%00), which no file name can hold")
    try:
        path = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadUri(f"{uri!r} is not UTF-8 once percent-decoded") from None
    if not path.startswith("/"):
        raise BadUri(f"{uri!r} does not name an absolute path")
    return path


def real_path(uri: str) -> str | None:
    """The real on-disk path a ``file:`` URI names (``..`` and symbolic links resolved), ``None`` for
    other schemes; raises :class:`BadUri` as :func:`file_path` does."""
    path = file_path(uri)
    return os.path.realpath(path) if path is not None else None
