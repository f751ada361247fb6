"""Outlook's Thread-Index header: which conversation a message belongs to.

Thread-Index carries PidTagConversationIndex in base64 (MS-OXOMSG 2.2.1.3): a
22-byte header block (one reserved byte 0x01, five bytes of FILETIME, a 16-byte
GUID made for each new conversation) followed by one 5-byte block per reply level.
A reply copies its parent's index and appends a block, so every message of one
conversation starts with the same 22 bytes: that header block is the root we
compare. Outlook and Exchange send it even when they leave out References.

The database finds messages of a root through the first 29 base64 characters of
the stored header (`ROOT_KEY_LENGTH`): 28 characters encode bytes 0-20, the 29th
the top six bits of byte 21, and nothing of the reply blocks. An expression index
on that prefix (threads/models.py) keeps the look-up off a table scan; candidates
are then compared on the full 22 bytes.
"""

from __future__ import annotations

import base64
import binascii

HEADER_BLOCK_BYTES = 22
ROOT_KEY_LENGTH = 29
# Base64 characters needed to hold the header block: 22 bytes -> 30 characters.
_MIN_ENCODED_LENGTH = 30
# 32 characters decode to 24 bytes, enough for the header block.
_DECODE_LENGTH = 32


def clean_thread_index(value: str | None) -> str:
    """The header value without the whitespace that folding may have put in."""
    return "".join(value.split()) if value else ""


def thread_index_root(value: str | None) -> bytes | None:
    """The 22-byte header block of a Thread-Index, or None when it is not one."""
    encoded = clean_thread_index(value)
    if len(encoded) < _MIN_ENCODED_LENGTH:
        return None

    head = encoded[:_DECODE_LENGTH]
    head += "=" * (-len(head) % 4)
    try:
        decoded = base64.b64decode(head, validate=True)
    except (binascii.Error, ValueError):
        return None

    if len(decoded) < HEADER_BLOCK_BYTES:
        return None
    return decoded[:HEADER_BLOCK_BYTES]


def thread_index_key(value: str | None) -> str | None:
    """The stored prefix that stands for the root in an indexed look-up."""
    if thread_index_root(value) is None:
        return None
    return clean_thread_index(value)[:ROOT_KEY_LENGTH]
