"""Fast header parse for the sync hot path: what listing, linking and threading need.

Only the header block is read (up to the first empty line), split into fields by
hand and decoded only for the fields listing needs: a full MIME parse costs 20
times more and waits for the extraction stage (messages/extract.py).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

from mailservice.parsing import fields as f
from mailservice.parsing.addresses import parse_address_list
from mailservice.parsing.charsets import decode_text, decode_words

log = logging.getLogger(__name__)

ADDRESS_ROLES = {"from": "from", "sender": "sender", "reply-to": "reply_to",
                 "to": "to", "cc": "cc", "bcc": "bcc"}
_WANTED = {"message-id", "in-reply-to", "references", "thread-index", "subject", "date",
           "received", "auto-submitted", "x-autoreply", "x-autorespond", "precedence",
           "content-type", "content-disposition", *ADDRESS_ROLES}

_BLOCK_END = re.compile(rb"\r?\n\r?\n")
# RFC 5322 2.2: a field name is printable US-ASCII except the colon.
_FIELD = re.compile(r"([!-9;-~]+)[ \t]*:")
_FIELD_BYTES = re.compile(rb"[!-9;-~]+[ \t]*:")
_CHARSET_PARAM = re.compile(rb"""charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.I)
_MBOX_FROM_LINE = re.compile(rb"From [ \t]*[^ \t:]")
_OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an Outlook .msg file
MAX_SUBJECT_LENGTH = 2000


@dataclass
class ParsedAddress:
    """One address from a header: `role` is from, to, cc, bcc, reply_to or sender."""

    role: str
    name: str | None
    address: str  # as written, IDN domains decoded to Unicode


@dataclass
class ParsedHeaders:
    """What the hot path knows of a message from its header block alone."""

    message_id: str | None = None  # without angle brackets
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    thread_index: str | None = None
    subject: str | None = None
    sent_at: datetime | None = None  # falls back to the INTERNALDATE
    addresses: list[ParsedAddress] = field(default_factory=list)
    is_auto_reply: bool = False
    has_attachments: bool = False
    # Set when the headers could not be read; the message is then quarantined.
    error: str | None = None
    # Why sent_at is not the Date header ("no Date header", "Date ... before 1980").
    sent_at_fallback: str | None = None
    content_type: str = "text/plain"  # top-level type/subtype, lowercased


def parse_headers(raw: bytes, internal_date: datetime | None) -> ParsedHeaders:
    """Parse the header block of `raw`; never raises, errors go to `.error`."""
    internal_date = _aware(internal_date)
    parsed = ParsedHeaders(sent_at=internal_date)
    try:
        fields, error = _read_fields(raw)
        parsed.error = error
        if fields:
            _fill(parsed, fields, internal_date)
    except Exception as exc:  # the hot path must survive any input
        log.warning("header parse failed: %s: %s", type(exc).__name__, exc)
        parsed.error = f"headers unreadable: {type(exc).__name__}: {exc}"
    return parsed


def message_start(raw: bytes) -> bytes:
    """`raw` without what some exporters put before the headers: a BOM, a From line."""
    raw = raw.removeprefix(b"\xef\xbb\xbf")
    if _MBOX_FROM_LINE.match(raw):  # a separator line left in by an mbox export
        raw = raw[raw.find(b"\n") + 1:] if b"\n" in raw else b""
    return raw


def without_stray_lines(raw: bytes) -> bytes:
    """`raw` minus header-block lines that are neither a field nor a folded line.

    The stdlib parser ends the headers at such a line and reads the rest as body,
    losing every field after it; mail clients skip the line, and so do we.
    """
    block = header_block(raw)
    lines = block.split(b"\n")
    kept = [line for line in lines if line[:1] in b" \t" or _FIELD_BYTES.match(line)]
    if not block or len(kept) == len(lines):
        return raw
    start = raw.find(block)
    return b"\n".join(kept) + raw[start + len(block):]


def header_block(raw: bytes) -> bytes:
    """The bytes before the first empty line (the whole message if there is none)."""
    raw = message_start(raw)
    if raw.startswith((b"\r\n", b"\n")):
        return b""
    end = _BLOCK_END.search(raw)
    return raw[: end.start()] if end else raw


def header_problem(raw: bytes) -> str | None:
    """Why `raw` is no message at all (empty, binary, headerless), or None."""
    if not raw or raw.isspace():  # (strip() would copy a 50 MB message)
        return "empty message"
    if raw.startswith(_OLE2_SIGNATURE):
        return "an Outlook .msg file (OLE2 binary), not an RFC 5322 message"
    if not _FIELD.match(_first_line(header_block(raw))):
        return "no header field at the start of the message"
    return None


def _first_line(block: bytes) -> str:
    # Lines of blanks before the first field are mended by every parser.
    for line in block[:4096].split(b"\n"):
        if line.strip():
            return line.decode("ascii", "replace")
    return ""


def _read_fields(raw: bytes) -> tuple[dict[str, list[str]], str | None]:
    problem = header_problem(raw)
    if problem:
        return {}, problem
    return _split_fields(_decode_block(header_block(raw))), None


def _decode_block(block: bytes) -> str:
    if block.isascii():
        return block.decode("ascii")
    try:
        return block.decode("utf-8")  # RFC 6532: raw UTF-8 in headers
    except UnicodeDecodeError:
        pass
    # 8-bit bytes of no declared charset: the body's charset is the best hint
    # (mail clients assume it too), line by line so one bad line does not
    # drag the others into a wrong guess.
    hint = _CHARSET_PARAM.search(block)
    label = hint.group(1).decode("ascii") if hint else None
    return "\n".join(decode_text(line, label) for line in block.split(b"\n"))


def _split_fields(block: str) -> dict[str, list[str]]:
    """Unfold (RFC 5322 2.2.3) and keep the wanted fields; stray lines are skipped."""
    pieces: dict[str, list[list[str]]] = {}
    current: list[str] | None = None
    for line in block.split("\n"):
        if line[:1] in (" ", "\t"):
            if current is not None:
                current.append(line.rstrip("\r"))
            continue
        match = _FIELD.match(line)
        if match is None:
            current = None  # not a field: mail-parser and MUAs skip it too
            continue
        name = match.group(1).lower()
        current = [line[match.end():].rstrip("\r")] if name in _WANTED else None
        if current is not None:
            pieces.setdefault(name, []).append(current)
    return {name: ["".join(v).strip() for v in found] for name, found in pieces.items()}


def _fill(parsed: ParsedHeaders, fields: dict, internal_date: datetime | None) -> None:
    first = {name: values[0] for name, values in fields.items()}

    ids = f.message_ids(first.get("message-id"))
    parsed.message_id = ids[0] if ids else None
    reply_ids = f.message_ids(first.get("in-reply-to"))
    parsed.in_reply_to = reply_ids[0] if reply_ids else None
    parsed.references = f.message_ids(" ".join(fields.get("references", [])))
    parsed.thread_index = "".join(first.get("thread-index", "").split()) or None

    subject = first.get("subject")
    if subject is not None:
        parsed.subject = _subject(subject)
    parsed.sent_at, parsed.sent_at_fallback = _sent_at(first, internal_date)
    parsed.addresses = _addresses(fields)

    parsed.content_type = f.mime_type(first.get("content-type"))
    parsed.is_auto_reply = f.is_auto_reply(fields, parsed.subject)
    parsed.has_attachments = f.likely_has_attachments(fields)


def _subject(value: str) -> str:
    # Encoded words take up to 9 bytes a character; decoding a 200 KB subject
    # only to cut it costs the hot path a whole millisecond.
    if len(value) > 8 * MAX_SUBJECT_LENGTH:
        value = value[: 8 * MAX_SUBJECT_LENGTH].rsplit(None, 1)[0]
    return " ".join(decode_words(value).split())[:MAX_SUBJECT_LENGTH]


def _sent_at(first: dict, internal_date: datetime | None):
    value = first.get("date")
    moment = f.parse_date(value)
    if moment is not None:
        reason = f.implausible_date_reason(moment, internal_date)
        if reason is None:
            return moment, None
    elif value:
        reason = f"unreadable Date {value[:60]!r}"
    else:
        reason = "no Date header"
    return internal_date or f.received_date(first.get("received")), reason


def _addresses(fields: dict[str, list[str]]) -> list[ParsedAddress]:
    found = []
    for header, role in ADDRESS_ROLES.items():
        for value in fields.get(header, ()):
            for name, address in parse_address_list(value):
                found.append(ParsedAddress(role=role, name=name, address=address))
    return found


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    if moment.tzinfo is None:  # an IMAP INTERNALDATE read without its zone
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)
