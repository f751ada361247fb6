"""Mailings, their recipients and files, contact groups, and the suppression list.

A mailing's recipients are rows of their own, one per address (unique within
the mailing), so starting a mailing twice, or after a crash, finds the rows it
made before. Each recipient gets at most one outgoing message: the row points
at it, and the pointer is set in the transaction that creates the message.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from mailservice.db.base import Base, utcnow
from mailservice.db.types import UtcDateTime

# Mailing.kind: transactional mail (invoices, reminders, balance confirmations)
# has no unsubscribe; marketing mail (offers, announcements) must have one.
TRANSACTIONAL, MARKETING = "transactional", "marketing"
KINDS = (TRANSACTIONAL, MARKETING)

# Mailing.state
DRAFT, RUNNING, PAUSED, FINISHED, CANCELLED = (
    "draft",
    "running",
    "paused",
    "finished",
    "cancelled",
)

# Mailing.address_rule: which of a contact's addresses get the message.
ADDRESS_RULES = ("all", "contact", "people", "first")

# Mailing.files_match: how uploaded files find their recipient.
FILES_MATCH = ("none", "column", "nip", "pattern")

# MailingRecipient.state; a queued recipient's progress is its outgoing message's.
PENDING, RENDERING, QUEUED, SKIPPED, FAILED = (
    "pending",
    "rendering",
    "queued",
    "skipped",
    "failed",
)
RECIPIENT_CANCELLED = CANCELLED

# MailingRecipient.problem: why a recipient cannot get the message as it stands.
NO_ADDRESS, BAD_ADDRESS, BOUNCING, UNSUBSCRIBED, NO_FILE = (
    "no_address",
    "bad_address",
    "bouncing",
    "unsubscribed",
    "no_file",
)

# MailingRecipient.source
FROM_FILTER, FROM_CSV, FROM_HAND = "filter", "csv", "hand"


class Mailing(Base):
    """One composed message (templates, signature, account) for many recipients."""

    __tablename__ = "mailings"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(13), default=TRANSACTIONAL)
    state: Mapped[str] = mapped_column(String(10), default=DRAFT, index=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    author_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    locale: Mapped[str] = mapped_column(String(5), default="pl")
    subject_source: Mapped[str] = mapped_column(Text)
    body_source: Mapped[str] = mapped_column(Text)
    include_signature: Mapped[bool] = mapped_column(Boolean, default=True)
    # A per-recipient PDF: an HTML Jinja2 template rendered by WeasyPrint.
    document_source: Mapped[str | None] = mapped_column(Text)
    document_filename: Mapped[str] = mapped_column(String(300), default="dokument.pdf")
    address_rule: Mapped[str] = mapped_column(String(10), default="all")
    person_position: Mapped[str | None] = mapped_column(String(200))
    # The contact filter as JSON: group, owner, failed_of, all, contacts.
    selection: Mapped[str] = mapped_column(Text, default="{}")
    files_match: Mapped[str] = mapped_column(String(10), default="none")
    files_pattern: Mapped[str | None] = mapped_column(String(300))
    files_required: Mapped[bool] = mapped_column(Boolean, default=False)
    source_mailing_id: Mapped[int | None] = mapped_column(
        ForeignKey("mailings.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UtcDateTime, default=utcnow, onupdate=utcnow
    )
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class MailingRecipient(Base):
    """One recipient address of a mailing, its own merge fields, and its message."""

    __tablename__ = "mailing_recipients"
    __table_args__ = (
        UniqueConstraint("mailing_id", "address_norm"),
        UniqueConstraint("mailing_id", "position"),
        Index("ix_mailing_recipients_state", "mailing_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mailing_id: Mapped[int] = mapped_column(
        ForeignKey("mailings.id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column(Integer)  # 1, 2, ... as listed
    source: Mapped[str] = mapped_column(String(6), default=FROM_FILTER)
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL")
    )
    name: Mapped[str | None] = mapped_column(String(500))
    # Empty when the contact has no usable address: listed, never dropped.
    address: Mapped[str | None] = mapped_column(String(320))
    address_norm: Mapped[str | None] = mapped_column(String(320))
    fields: Mapped[str | None] = mapped_column(Text)  # JSON: document fields
    files_key: Mapped[str | None] = mapped_column(String(1000))  # CSV file names
    state: Mapped[str] = mapped_column(String(10), default=PENDING)
    problem: Mapped[str | None] = mapped_column(String(12))
    error: Mapped[str | None] = mapped_column(Text)
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    dispatched_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    outgoing_id: Mapped[int | None] = mapped_column(
        ForeignKey("outgoing_messages.id", ondelete="SET NULL"), unique=True
    )


class MailingUpload(Base):
    """A per-recipient file given to a mailing (from a folder or an upload); its
    bytes sit in the outbox spool by hash, which every worker can read."""

    __tablename__ = "mailing_uploads"
    __table_args__ = (UniqueConstraint("mailing_id", "filename"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mailing_id: Mapped[int] = mapped_column(
        ForeignKey("mailings.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(500))
    content_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))


class ContactGroup(Base):
    """A named set of contacts a mailing can be sent to (e.g. subscribers)."""

    __tablename__ = "contact_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ContactGroupMember(Base):
    """A contact's membership of a group."""

    __tablename__ = "contact_group_members"
    __table_args__ = (UniqueConstraint("group_id", "contact_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(
        ForeignKey("contact_groups.id", ondelete="CASCADE")
    )
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )


class SuppressedAddress(Base):
    """An address no marketing mailing may go to: unsubscribed, or added by hand."""

    __tablename__ = "suppressed_addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    address_norm: Mapped[str] = mapped_column(String(320), unique=True)
    reason: Mapped[str] = mapped_column(String(20), default="unsubscribed")
    mailing_id: Mapped[int | None] = mapped_column(
        ForeignKey("mailings.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
