"""When two copies are one message: the identity key every writer of Message uses.

A message with a Message-ID is the same message wherever it is found when its
Message-ID, Date header, From address and body agree (a copy in Sent and in a
second account, or a sent copy recorded by the outbound mail); one without a
Message-ID is known only by the SHA-256 of its raw bytes.

The body is part of the key because Message-IDs are not as unique as RFC 5322
3.6.4 asks: test suites, broken mailers and spammers reuse them with other
content, and such a message must not vanish behind its namesake. The header
block is left out since every delivery adds its own trace fields (Received,
Delivered-To); line ends and trailing white space are left out since servers
store them differently (one keeps LF, another CRLF).
"""

from __future__ import annotations

import hashlib
import re

# RFC 5322 2.2.3: a field continues on lines that start with a space or tab.
_DATE_FIELD = re.compile(rb"^date[ \t]*:(.*(?:\r?\n[ \t].*)*)", re.I | re.M)
_BLOCK_END = re.compile(rb"\r?\n\r?\n")
_FOLD = re.compile(rb"\r?\n")


def identity_key(
    message_id: str, date_header: str, from_address: str, body_digest: str
) -> str:
    """The sameness key of a message that has a Message-ID (sha256 hex)."""
    text = (
        f"{message_id.strip().strip('<>').lower()}\0{date_header.strip()}\0"
        f"{from_address.strip().lower()}\0{body_digest}"
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class BodyDigest:
    """The digest of a message body, fed the raw message in pieces."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self._head = b""  # bytes seen while still inside the header block
        self._in_body = False
        self._held = b""  # trailing white space, hashed only if more text follows

    def update(self, chunk: bytes) -> None:
        """Feed the next piece of the raw message."""
        if not self._in_body:
            self._head += chunk
            end = _BLOCK_END.search(self._head)
            if end is None:
                return
            chunk, self._head, self._in_body = self._head[end.end():], b"", True
        text = self._held + chunk.replace(b"\r", b"")
        body = text.rstrip(b" \t\n")
        self._hash.update(body)
        self._held = text[len(body):]

    def hexdigest(self) -> str:
        """The digest (hex) of the body seen so far; of nothing if none was seen."""
        return self._hash.hexdigest()


def body_digest(raw: bytes) -> str:
    """The digest of the body of a whole raw message."""
    digest = BodyDigest()
    digest.update(raw)
    return digest.hexdigest()


def date_header(raw: bytes) -> str:
    """The Date header of a raw message as written, unfolded; "" when absent."""
    end = _BLOCK_END.search(raw)
    match = _DATE_FIELD.search(raw, 0, end.start() if end else len(raw))
    if match is None:
        return ""
    return _FOLD.sub(b"", match.group(1)).decode("ascii", "replace").strip()
