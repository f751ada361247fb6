"""Attachment and inline-image bytes, read from the raw message by MIME part path.

Part paths number the parts as IMAP does (RFC 3501 6.4.5): "1", "2.1"; the body
of a single-part message is "1", and a message/rfc822 part's own parts continue
the path ("3.1" is the first part of the message attached as part 3).
"""

from __future__ import annotations

import base64
import logging
from email import message_from_bytes, policy
from email.message import EmailMessage

from mailservice.config import Settings
from mailservice.errors import NotFoundError
from mailservice.messages.models import Attachment, Message
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
        raise NotFoundError(f"raw message {message.id} is missing from the store") from exc


def part_bytes(raw: bytes, part_path: str) -> bytes:
    """The decoded content of the part at `part_path`."""
    part = _find(message_from_bytes(raw, policy=policy.compat32), part_path)
    if part.get_content_maintype() == "message":
        inner = part.get_payload()
        return (inner[0] if isinstance(inner, list) else inner).as_bytes()
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def inline_images(
    settings: Settings, message: Message, attachments: list[Attachment]
) -> dict[str, str]:
    """Content-ID -> data: URL for the message's own inline images (cid: links)."""
    wanted = [a for a in attachments
              if a.content_id and a.content_type.lower() in INLINE_IMAGE_TYPES]
    if not wanted:
        return {}
    raw = raw_message(settings, message)
    found: dict[str, str] = {}
    budget = MAX_INLINE_BYTES
    for attachment in wanted:
        try:
            data = part_bytes(raw, attachment.part_path)
        except NotFoundError:
            log.warning("inline part missing message=%s part=%s", message.id,
                        attachment.part_path)
            continue
        budget -= len(data)
        if budget < 0:
            break
        encoded = base64.b64encode(data).decode()
        found[attachment.content_id.strip("<> ")] = (
            f"data:{attachment.content_type.lower()};base64,{encoded}"
        )
    return found


def _find(message: EmailMessage, part_path: str):
    node = message
    for step in part_path.split("."):
        if not step.isdigit():
            raise NotFoundError(f"bad part path {part_path!r}")
        if node.get_content_maintype() == "message" and node is not message:
            node = _inner(node)
        if not node.is_multipart():
            if step != "1":
                raise NotFoundError(f"no part {part_path}")
            continue
        children = node.get_payload()
        index = int(step) - 1
        if not 0 <= index < len(children):
            raise NotFoundError(f"no part {part_path}")
        node = children[index]
    return node


def _inner(part):
    payload = part.get_payload()
    return payload[0] if isinstance(payload, list) else payload
