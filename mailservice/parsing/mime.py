"""Reading one MIME part of a stdlib (compat32) message: names, bytes, text, paths.

Part paths follow IMAP (RFC 3501 6.4.5): the children of a multipart are 1, 2, ...;
a message that is not multipart has one part, "1"; "2.1" is the first child of part
2. So the web inbox can fetch the same part from the server with BODY[2.1].
"""

from __future__ import annotations

import logging
import re
from email.header import Header
from email.message import Message

from mailservice.errors import MessageParseError
from mailservice.parsing.charsets import decode_text, decode_words
from mailservice.parsing.text import html_meta_charset

log = logging.getLogger(__name__)

MAX_FILENAME_LENGTH = 255
_UNSAFE_IN_FILENAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')
# RFC 2183 2.3 names the file in Content-Disposition; older mailers use RFC 1341's
# Content-Type name parameter.
_NAME_PARAMETERS = (("filename", "content-disposition"), ("name", "content-type"))
ENCLOSED_MESSAGE_TYPES = ("message/rfc822", "message/global")


def header_text(value: str | Header | None) -> str | None:
    """A header value as text: raw 8-bit bytes and encoded words decoded."""
    if value is None:
        return None
    if isinstance(value, Header):
        value = str(value)  # compat32 wraps 8-bit values; str() keeps the escapes
    if _has_surrogates(value):
        value = decode_text(value.encode("ascii", "surrogateescape"), None)
    return " ".join(decode_words(value).split())


def part_filename(part: Message) -> str | None:
    """The attachment's name: RFC 2231 parameters, then encoded words, decoded."""
    source = _parameter_source(part)
    for param, header in _NAME_PARAMETERS:
        value = source.get_param(param, header=header)
        name = _param_text(value) if value else None
        if name:
            return _safe_filename(name)
    return None


def _parameter_source(part: Message) -> Message:
    # compat32 turns raw 8-bit parameter bytes (RFC 6532 UTF-8, or worse) into
    # U+FFFD when asked for a parameter; decode them first, on a header-only copy.
    raw = [(name, value) for name, value in part.raw_items()
           if name.lower() in ("content-type", "content-disposition")]
    if not any(isinstance(v, str) and _has_surrogates(v) for _, v in raw):
        return part
    view = Message()
    for name, value in raw:
        view[name] = decode_text(str(value).encode("ascii", "surrogateescape"), None)
    return view


def _param_text(value: str | tuple) -> str:
    if isinstance(value, tuple):
        # RFC 2231 4: charset'language'percent-encoded; compat32 has undone the
        # percent-encoding into one character per byte.
        charset, _language, text = value
        return decode_text(text.encode("raw-unicode-escape"), charset or None)
    return header_text(value) or ""


def _safe_filename(name: str) -> str | None:
    # Names come from the sender: no folders, no control or reserved characters.
    # Slashes become "_" rather than cut the name: "Faktura 12/2026.pdf" is common.
    name = " ".join(_UNSAFE_IN_FILENAME.sub("_", name).split()).strip(". ")
    return name[-MAX_FILENAME_LENGTH:] or None


def enclosed_message_name(part: Message) -> str:
    """A file name for a forwarded message: its subject plus .eml."""
    inner = part.get_payload(0) if part.is_multipart() else None
    subject = header_text(inner.get("subject")) if inner is not None else None
    subject = (subject or "")[:100].strip(". ")
    return _safe_filename(f"{subject}.eml") if subject else "message.eml"


def payload_bytes(part: Message) -> bytes:
    """The decoded content of a part (an enclosed message as its own raw bytes)."""
    if part.get_content_type().startswith("message/") and part.is_multipart():
        return "\n".join(_flatten(block) for block in part.get_payload()).encode(
            "utf-8", "surrogateescape"
        )
    if part.is_multipart():
        return _flatten(part).encode("utf-8", "surrogateescape")
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _flatten(message: Message) -> str:
    # The part as it was read: the stdlib generator refolds every header and
    # costs half of a body extraction on mail that forwards mail.
    lines = [f"{name}: {value}\n" for name, value in message.raw_items()]
    lines.append("\n")
    payload = message._payload  # the text as read; get_payload() would decode it
    if not isinstance(payload, list):
        lines.append(payload or "")
    elif message.get_content_type().startswith("message/"):
        lines.append("\n".join(_flatten(block) for block in payload))
    else:
        lines.append(_flatten_parts(message, payload))
    return "".join(lines)


def _flatten_parts(message: Message, parts: list[Message]) -> str:
    boundary = message.get_boundary() or ""
    pieces = [message.preamble + "\n"] if message.preamble else []
    for part in parts:
        pieces.append(f"--{boundary}\n{_flatten(part)}\n")
    pieces.append(f"--{boundary}--\n")
    if message.epilogue:
        pieces.append(message.epilogue)
    return "".join(pieces)


def part_text(part: Message) -> str:
    """The text of a text/* part, decoded whatever its charset label claims."""
    data = payload_bytes(part)
    label = part.get_content_charset()
    if label is None and part.get_content_subtype() == "html":
        label = html_meta_charset(data)
    return decode_text(data, label)


def find_part(message: Message, part_path: str) -> Message:
    """The part at an IMAP part path ("1", "2.1"); MessageParseError if none."""
    try:
        steps = [int(step) for step in part_path.split(".")]
    except ValueError:
        raise MessageParseError(f"part path {part_path!r} is not like '2.1'") from None
    node = message
    for depth, step in enumerate(steps):
        enclosed = node.get_content_type() in ENCLOSED_MESSAGE_TYPES
        if depth and enclosed and node.is_multipart():
            node = node.get_payload(0)  # RFC 3501: "2.1" is inside the message at 2
        node = _child(node, step, part_path)
    return node


def _child(node: Message, step: int, part_path: str) -> Message:
    if node.get_content_type().startswith("multipart/") and node.is_multipart():
        children = node.get_payload()
        if 1 <= step <= len(children):
            return children[step - 1]
    elif step == 1:
        return node
    raise MessageParseError(f"the message has no part {part_path}")


def _has_surrogates(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
