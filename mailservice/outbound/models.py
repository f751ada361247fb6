"""Outgoing messages, their recipients and attachments, and what came back for them."""

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
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mailservice.db.base import Base, utcnow
from mailservice.db.types import UtcDateTime

# OutgoingMessage.state: a draft is edited; the others are the delivery states.
DRAFT = "draft"
QUEUED = "queued"
SENDING = "sending"
SENT = "sent"
DEFERRED = "deferred"  # a temporary failure; retried at next_attempt_at
FAILED = "failed"  # a permanent failure; last_error holds the server's reason
STATES = (DRAFT, QUEUED, SENDING, SENT, DEFERRED, FAILED)

# OutgoingRecipient.status
PENDING = "pending"
ACCEPTED = "accepted"
REFUSED = "refused"

# OutgoingMessage.compose_mode
NEW, REPLY, REPLY_ALL, FORWARD = "new", "reply", "reply_all", "forward"


class OutgoingMessage(Base):
    """One message we send: a draft while edited, then a row the workers deliver.

    `message_id_header` is minted at creation and kept through every retry, so a
    re-send after a crash carries the same Message-ID. `spool_name` is the file
    in the outbox spool holding the exact bytes that go out.
    """

    __tablename__ = "outgoing_messages"
    __table_args__ = (
        Index("ix_outgoing_messages_due", "state", "next_attempt_at"),
        Index("ix_outgoing_messages_account_attempt", "account_id", "last_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[str] = mapped_column(String(10), default=DRAFT)
    author_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL")
    )
    # Automatic mail (invoices, reminders) says so: Auto-Submitted, RFC 3834 5.
    automatic: Mapped[bool] = mapped_column(Boolean, default=False)
    compose_mode: Mapped[str] = mapped_column(String(10), default=NEW)
    source_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL")
    )
    from_name: Mapped[str | None] = mapped_column(String(500))
    from_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    body_text: Mapped[str | None] = mapped_column(Text)
    # The quoted original of a reply or forward; the signature goes above it.
    quoted_html: Mapped[str | None] = mapped_column(Text)
    template_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("template_versions.id", ondelete="SET NULL")
    )
    signature_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("signature_versions.id", ondelete="SET NULL")
    )
    include_signature: Mapped[bool] = mapped_column(Boolean, default=True)
    message_id_header: Mapped[str] = mapped_column(String(500), unique=True)
    in_reply_to: Mapped[str | None] = mapped_column(String(1000))
    references: Mapped[str | None] = mapped_column(Text)  # space-separated <ids>
    spool_name: Mapped[str | None] = mapped_column(String(200))
    size: Mapped[int | None] = mapped_column(BigInteger)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    queued_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    dispatched_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    smtp_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    # The Message row (messages table) of the sent copy, and its Sent-folder copy.
    message_row_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL")
    )
    sent_copy_appended: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UtcDateTime, default=utcnow, onupdate=utcnow
    )

    recipients: Mapped[list[OutgoingRecipient]] = relationship(
        back_populates="message",
        cascade="all, delete-orphan",
        order_by="OutgoingRecipient.id",
    )
    attachments: Mapped[list[OutgoingAttachment]] = relationship(
        back_populates="message",
        cascade="all, delete-orphan",
        order_by="OutgoingAttachment.id",
    )


class OutgoingRecipient(Base):
    """One recipient (to, cc or bcc) and what the server said to it at RCPT."""

    __tablename__ = "outgoing_recipients"

    id: Mapped[int] = mapped_column(primary_key=True)
    outgoing_id: Mapped[int] = mapped_column(
        ForeignKey("outgoing_messages.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(3))  # to, cc, bcc
    name: Mapped[str | None] = mapped_column(String(500))
    address: Mapped[str] = mapped_column(String(320))
    address_norm: Mapped[str] = mapped_column(String(320), index=True)
    status: Mapped[str] = mapped_column(String(10), default=PENDING)
    smtp_reply: Mapped[str | None] = mapped_column(Text)
    bounce: Mapped[str | None] = mapped_column(String(4))  # soft, hard
    bounce_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL")
    )

    message: Mapped[OutgoingMessage] = relationship(back_populates="recipients")


class OutgoingAttachment(Base):
    """A file attached to an outgoing message; its bytes live in the spool by hash."""

    __tablename__ = "outgoing_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    outgoing_id: Mapped[int] = mapped_column(
        ForeignKey("outgoing_messages.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(1000))
    content_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    # Set for inline images referenced from the HTML as cid:...
    content_id: Mapped[str | None] = mapped_column(String(500))

    message: Mapped[OutgoingMessage] = relationship(back_populates="attachments")


class OutgoingAlias(Base):
    """Another Message-ID our message is known by: the one a provider gave it.

    Some providers replace our Message-ID; their 250 reply to DATA names the new
    one, and replies then point at it.
    """

    __tablename__ = "outgoing_aliases"

    id: Mapped[int] = mapped_column(primary_key=True)
    outgoing_id: Mapped[int] = mapped_column(
        ForeignKey("outgoing_messages.id", ondelete="CASCADE"), index=True
    )
    message_id_header: Mapped[str] = mapped_column(String(500), unique=True)


class SendingPolicy(Base):
    """Per-account sending: rate limits, the Sent folder, and the claim lock row.

    Claiming locks this row (UPDATE first), so workers on any machine count the
    account's recent sends and take rows one after the other.
    """

    __tablename__ = "sending_policies"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    per_minute: Mapped[int | None] = mapped_column(Integer)
    per_hour: Mapped[int | None] = mapped_column(Integer)
    sent_folder: Mapped[str | None] = mapped_column(String(1000))
    claim_count: Mapped[int] = mapped_column(BigInteger, default=0)
    last_claim_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # When a rate limit stops claims, the one job that sets this wakes them later.
    wake_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class BouncingAddress(Base):
    """An address that bounced: soft (try again later) or hard (do not mail)."""

    __tablename__ = "bouncing_addresses"
    __table_args__ = (UniqueConstraint("address_norm"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    address_norm: Mapped[str] = mapped_column(String(320))
    kind: Mapped[str] = mapped_column(String(4))  # soft, hard
    count: Mapped[int] = mapped_column(Integer, default=1)
    reason: Mapped[str | None] = mapped_column(Text)
    first_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_outgoing_id: Mapped[int | None] = mapped_column(
        ForeignKey("outgoing_messages.id", ondelete="SET NULL")
    )


class ReturnScan(Base):
    """How far the scan for replies and bounces has read the messages table."""

    __tablename__ = "return_scans"

    id: Mapped[int] = mapped_column(primary_key=True)  # always 1
    last_message_id: Mapped[int] = mapped_column(BigInteger, default=0)
