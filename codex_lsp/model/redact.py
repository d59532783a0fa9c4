"""Keeping configured secrets out of every log line and error message the model layer produces.

A provider can carry secrets in more places than the API key: ``env_http_headers`` values (read from the
environment precisely because they are secret, e.g. ``api-key`` for Azure), ``http_headers`` such as
``x-api-key`` or ``cookie`` written into ``config.toml``, and key-like query parameters. A
:class:`Redactor` knows all of them for one set of settings and masks them two ways:

- by value, in any text (error messages quote server replies, which may echo a header back);
- by header name, in the handshake lines the ``websockets`` library logs at DEBUG (``> api-key: …``), so a
  secret header is masked even when its value is too short to be masked safely by value.

The HTTP side logs through ``httpx`` and ``httpcore``, whose loggers are global: ``httpx`` logs each
request's URL at INFO (query parameters included) and ``httpcore`` the reply headers at DEBUG.
:func:`guard_library_logs` puts a filter on those loggers that masks the secrets of every live client in
each record.
"""

from __future__ import annotations

import logging
import re
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from websockets.frames import Frame

__all__ = [
    "LIBRARY_LOGGERS",
    "MASK",
    "RedactingLogger",
    "Redactor",
    "guard_library_logs",
    "is_secret_header",
    "looks_like_key",
]

MASK = "***"
MIN_SECRET_LENGTH = 4
"""Shorter values are masked by header name only: replacing "1" or "on" in every message would garble the
text and hide nothing."""
_SECRET_NAME = re.compile(
    r"auth|api[-_]?key|(^|[-_])key$|token|secret|cookie|passw|credential|signature", re.I
)
_PROTOCOL_NAME = re.compile(r"^sec-websocket-", re.I)
"""The WebSocket handshake's own nonces (``sec-websocket-key``/``-accept``) are not secrets."""
_KEY_PREFIX = re.compile(r"^(sk|pk|rk|ak)[-_]|^(bearer|basic|token)\s", re.I)
_OPAQUE_TOKEN = re.compile(r"^[A-Za-z0-9_\-.~+/=]{24,}$")


def is_secret_header(name: str) -> bool:
    """Whether a header (or query parameter) of this name carries a credential by convention."""
    return bool(_SECRET_NAME.search(name)) and not _PROTOCOL_NAME.match(name)


def looks_like_key(value: str) -> bool:
    """Whether ``value`` looks like a credential: a known key or scheme prefix, or a long opaque token
    mixing letters and digits."""
    if _KEY_PREFIX.search(value):
        return True
    return (
        bool(_OPAQUE_TOKEN.match(value))
        and any(c.isdigit() for c in value)
        and any(c.isalpha() for c in value)
    )


@dataclass(frozen=True)
class Redactor:
    """The secrets of one provider configuration, and how to mask them."""

    values: tuple[str, ...] = ()
    """Secret values, longest first (so a secret that contains another is masked whole)."""
    header_names: frozenset[str] = frozenset()
    """Lower-cased header names whose values are masked wherever a header line is logged."""

    @classmethod
    def of(
        cls,
        *,
        keys: tuple[str, ...] = (),
        key: str | None = None,
        env_headers: Mapping[str, str],
        headers: Mapping[str, str],
        query_params: Mapping[str, str],
    ) -> Redactor:
        """Collect the secrets: the keys and tokens of the credential, every ``env_http_headers`` value
        (resolved), and the ``http_headers`` and query parameters whose name or value says they are
        credentials."""
        values = [*keys, key or "", *env_headers.values()]
        names = {"authorization", "proxy-authorization", *(n.lower() for n in env_headers)}
        for name, value in headers.items():
            if is_secret_header(name) or looks_like_key(value):
                values.append(value)
                names.add(name.lower())
        values += [v for n, v in query_params.items() if is_secret_header(n) or looks_like_key(v)]
        kept = sorted({v for v in values if len(v) >= MIN_SECRET_LENGTH}, key=len, reverse=True)
        return cls(tuple(kept), frozenset(names))

    @classmethod
    def union(cls, redactors: Iterable[Redactor]) -> Redactor:
        """The secrets of all ``redactors`` as one: masked one redactor after another, a secret of one that
        lies inside a longer secret of another would be masked first and leave the longer one's rest."""
        redactors = list(redactors)
        values = sorted({v for r in redactors for v in r.values}, key=len, reverse=True)
        return cls(tuple(values), frozenset().union(*(r.header_names for r in redactors)))

    def scrub(self, text: str) -> str:
        """``text`` with every secret value masked."""
        for secret in self.values:
            text = text.replace(secret, MASK)
        return text

    def header(self, name: str, value: str) -> str:
        """A header value as it may be logged."""
        if name.lower() in self.header_names or is_secret_header(name):
            return MASK
        return self.scrub(value)


_HEADER_LINES = frozenset({"> %s: %s", "< %s: %s"})
"""The formats ``websockets`` logs request (``>``) and response (``<``) header lines with."""


class RedactingLogger(logging.LoggerAdapter[logging.Logger]):
    """The logger handed to ``websockets``: it logs handshake headers and frames at DEBUG, so this adapter
    masks secret headers by name and any secret value in the text, and logs frames by kind and size only,
    since a server may echo anything back (truncated, hence unmaskable by value)."""

    def __init__(self, logger: logging.Logger, redactor: Redactor) -> None:
        super().__init__(logger, {})
        self._redactor = redactor

    def _scrub(self, value: object) -> object:
        if isinstance(value, Frame):
            return f"{value.opcode.name} frame [{len(value.data)} bytes]"
        return self._redactor.scrub(value) if isinstance(value, str) else value

    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        if msg in _HEADER_LINES and len(args) == 2:
            name = str(args[0])
            super().log(level, msg, name, self._redactor.header(name, str(args[1])), **kwargs)
            return
        super().log(level, self._scrub(msg), *(self._scrub(a) for a in args), **kwargs)


class SecretSource(Protocol):
    """Anything that can say which secrets are current (a client's ``Connections``)."""

    def redactor(self) -> Redactor: ...


LIBRARY_LOGGERS = ("httpx", "httpcore.connection", "httpcore.http11", "httpcore.http2", "httpcore.proxy")
"""The loggers of the HTTP stack (a filter on a logger does not see its children's records, so each one)."""
_SOURCES: weakref.WeakSet[SecretSource] = weakref.WeakSet()


class _ScrubLibraryRecords(logging.Filter):
    """Masks the secrets of every live source in each record (formatted first: the URL is an argument)."""

    def filter(self, record: logging.LogRecord) -> bool:
        sources = list(_SOURCES)
        if not sources:
            return True
        message = Redactor.union(source.redactor() for source in sources).scrub(record.getMessage())
        record.msg, record.args = message, ()
        return True


_FILTER = _ScrubLibraryRecords()


def guard_library_logs(source: SecretSource) -> None:
    """Mask ``source``'s secrets in what the HTTP libraries log, for as long as ``source`` lives."""
    _SOURCES.add(source)
    for name in LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
