"""When two copies are one message: the identity key every writer of Message uses.

A message with a Message-ID is the same message wherever it is found when its
Message-ID, Date header and From address agree (a copy in Sent and in a second
account, or a sent copy recorded by the outbound mail); one without a Message-ID
is known only by the SHA-256 of its raw bytes.
"""

from __future__ import annotations

import hashlib
import re

# RFC 5322 2.2.3: a field continues on lines that start with a space or tab.
_DATE_FIELD = re.compile(rb"^date[ \t]*:(.*(?:\r?\n[ \t].*)*)", re.I | re.M)
_BLOCK_END = re.compile(rb"\r?\n\r?\n")
_FOLD = re.compile(rb"\r?\n")


def identity_key(message_id: str, date_header: str, from_address: str) -> str:
    """The sameness key of a message that has a Message-ID (sha256 hex)."""
    text = (
        f"{message_id.strip().strip('<>').lower()}\0{date_header.strip()}\0"
        f"{from_address.strip().lower()}"
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def date_header(raw: bytes) -> str:
    """The Date header of a raw message as written, unfolded; "" when absent."""
    end = _BLOCK_END.search(raw)
    match = _DATE_FIELD.search(raw, 0, end.start() if end else len(raw))
    if match is None:
        return ""
    return _FOLD.sub(b"", match.group(1)).decode("ascii", "replace").strip()
