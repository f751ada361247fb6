"""Attachment and inline-image bytes, read from the raw message by MIME part path.

Part paths number the parts as IMAP does (RFC 3501 6.4.5), the way the parser
recorded them when it listed the attachments.
"""

from __future__ import annotations

import base64
import logging

from mailservice.config import Settings
from mailservice.errors import MessageParseError, NotFoundError
from mailservice.messages.models import Attachment, Message
from mailservice.parsing.body import part_bytes as parsed_part_bytes
from mailservice.store.raw import RawStore

log = logging.getLogger(__name__)

INLINE_IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}
# Inline images become data: URLs in the body; past this the body would be huge.
MAX_INLINE_BYTES = 8 * 1024 * 1024


def raw_message(settings: Settings, message: Message) -> bytes:
    """The raw bytes of a message from the store."""
    store = RawStore(settings.effective_raw_store_dir, fsync=False)
    try:
        return store.read(message.raw_sha256)
    except FileNotFoundError as exc:
        raise NotFoundError(
            f"raw message {message.id} is missing from the store"
        ) from exc


def part_bytes(raw: bytes, part_path: str) -> bytes:
    """The decoded content of the part at `part_path`; NotFoundError if none."""
    try:
        return parsed_part_bytes(raw, part_path)[2]
    except MessageParseError as exc:
        raise NotFoundError(str(exc)) from exc


def inline_images(
    settings: Settings, message: Message, attachments: list[Attachment]
) -> dict[str, str]:
    """Content-ID -> data: URL for the message's own inline images (cid: links)."""
    wanted = [
        a
        for a in attachments
        if a.content_id and a.content_type.lower() in INLINE_IMAGE_TYPES
    ]
    if not wanted:
        return {}
    raw = raw_message(settings, message)
    found: dict[str, str] = {}
    budget = MAX_INLINE_BYTES
    for attachment in wanted:
        try:
            data = part_bytes(raw, attachment.part_path)
        except NotFoundError:
            log.warning(
                "inline part missing message=%s part=%s",
                message.id,
                attachment.part_path,
            )
            continue
        budget -= len(data)
        if budget < 0:
            break
        encoded = base64.b64encode(data).decode()
        found[attachment.content_id.strip("<> ")] = (
            f"data:{attachment.content_type.lower()};base64,{encoded}"
        )
    return found
