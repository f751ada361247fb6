"""DKIM signing (RFC 6376) of outgoing messages when a key is configured."""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

import dkim

from mailservice.config import Settings
from mailservice.errors import ConfigurationError

log = logging.getLogger(__name__)

SIGNED_HEADERS = [
    b"from",
    b"to",
    b"cc",
    b"subject",
    b"date",
    b"message-id",
    b"in-reply-to",
    b"references",
    b"mime-version",
    b"content-type",
    b"auto-submitted",
    # RFC 8058 3.1: one-click unsubscribe counts only when DKIM covers both.
    b"list-unsubscribe",
    b"list-unsubscribe-post",
]


@lru_cache(maxsize=4)
def _key(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"cannot read the DKIM key {path}: {exc}") from exc


def dkim_enabled(settings: Settings) -> bool:
    """Whether messages are signed: a selector and a key path are both set."""
    return bool(settings.dkim_selector and settings.dkim_key_path)


def sign(raw: bytes, settings: Settings, from_domain: str) -> bytes:
    """`raw` with a DKIM-Signature prepended; unchanged when no key is configured."""
    if not dkim_enabled(settings):
        return raw
    domain = (settings.dkim_domain or from_domain).encode()
    signature = dkim.sign(
        raw,
        settings.dkim_selector.encode(),
        domain,
        _key(settings.dkim_key_path),
        include_headers=SIGNED_HEADERS,
        linesep=b"\r\n",
    )
    return signature + raw
