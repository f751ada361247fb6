"""Messages and their locations, addresses and attachments."""

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

# parse_status values
HEADERS_ONLY = "headers"  # listed from its headers; bodies not yet extracted
PARSED = "parsed"  # bodies and attachments extracted
QUARANTINED = "quarantined"  # kept raw and set aside with parse_error


class Message(Base):
    """One message, however many folders or accounts hold a copy of it.

    `identity_key` decides sameness: the Message-ID with the date and sender when
    there is one, else the hash of the raw bytes.
    """

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    identity_key: Mapped[str] = mapped_column(String(64), unique=True)
    raw_sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    message_id_header: Mapped[str | None] = mapped_column(String(1000), index=True)
    in_reply_to: Mapped[str | None] = mapped_column(String(1000))
    thread_index: Mapped[str | None] = mapped_column(String(100))
    subject: Mapped[str | None] = mapped_column(Text)
    normalized_subject: Mapped[str | None] = mapped_column(String(500), index=True)
    from_name: Mapped[str | None] = mapped_column(String(500))
    from_address: Mapped[str | None] = mapped_column(String(320))
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    internal_date: Mapped[datetime | None] = mapped_column(UtcDateTime)
    has_attachments: Mapped[bool] = mapped_column(Boolean, default=False)
    is_auto_reply: Mapped[bool] = mapped_column(Boolean, default=False)
    parse_status: Mapped[str] = mapped_column(String(12), default=HEADERS_ONLY)
    parse_error: Mapped[str | None] = mapped_column(Text)
    snippet: Mapped[str | None] = mapped_column(String(300))
    body_text: Mapped[str | None] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    has_winmail_dat: Mapped[bool] = mapped_column(Boolean, default=False)
    thread_id: Mapped[int | None] = mapped_column(
        ForeignKey("threads.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    locations: Mapped[list[MessageLocation]] = relationship(back_populates="message")
    addresses: Mapped[list[MessageAddress]] = relationship(
        back_populates="message", cascade="all, delete-orphan"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="message", cascade="all, delete-orphan"
    )


class MessageLocation(Base):
    """Where a message sits: one folder and UID, with its flags there."""

    __tablename__ = "message_locations"
    __table_args__ = (
        UniqueConstraint("folder_id", "uidvalidity", "uid"),
        Index("ix_message_locations_folder_live", "folder_id", "deleted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    folder_id: Mapped[int] = mapped_column(ForeignKey("folders.id", ondelete="CASCADE"))
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    uid: Mapped[int] = mapped_column(BigInteger)
    raw_sha256: Mapped[str] = mapped_column(String(64))
    flags: Mapped[str] = mapped_column(String(500), default="")
    modseq: Mapped[int | None] = mapped_column(BigInteger)
    # Set when the message vanished from this folder on the server; history stays.
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    synced_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    message: Mapped[Message] = relationship(back_populates="locations")


class MessageAddress(Base):
    """An address in a message header: as written for display, lowercased for matching."""

    __tablename__ = "message_addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(10))  # from, to, cc, bcc, reply_to, sender
    name: Mapped[str | None] = mapped_column(String(500))
    address: Mapped[str] = mapped_column(String(320))
    address_norm: Mapped[str] = mapped_column(String(320), index=True)
    domain: Mapped[str] = mapped_column(String(255), index=True)

    message: Mapped[Message] = relationship(back_populates="addresses")


class MessageReference(Base):
    """A Message-ID that a message points at (In-Reply-To or References), for threading."""

    __tablename__ = "message_references"
    __table_args__ = (UniqueConstraint("message_id", "referenced_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    referenced_id: Mapped[str] = mapped_column(String(1000), index=True)


class Attachment(Base):
    """An attachment or inline part of a message, located by its MIME part path."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str | None] = mapped_column(String(1000))
    content_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer, default=0)
    content_id: Mapped[str | None] = mapped_column(String(1000))
    is_inline: Mapped[bool] = mapped_column(Boolean, default=False)
    part_path: Mapped[str] = mapped_column(String(100))  # e.g. "2.1"

    message: Mapped[Message] = relationship(back_populates="attachments")
