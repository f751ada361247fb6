"""Fast header parse for the sync hot path: what listing, linking and threading need."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


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


def parse_headers(raw: bytes, internal_date: datetime | None) -> ParsedHeaders:
    """Parse the header block of `raw`; never raises, errors go to `.error`."""
    raise NotImplementedError  # TODO: being written (parsing helper)
