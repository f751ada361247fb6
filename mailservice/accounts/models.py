"""Accounts and the folders found on their IMAP servers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mailservice.db.base import Base, utcnow
from mailservice.db.types import UtcDateTime


class Account(Base):
    """One company mailbox: where to read it (IMAP) and where to send from (SMTP)."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    email: Mapped[str | None] = mapped_column(String(320))
    imap_host: Mapped[str] = mapped_column(String(255))
    imap_port: Mapped[int] = mapped_column(Integer)
    imap_security: Mapped[str] = mapped_column(String(10))  # ssl, starttls, none
    username: Mapped[str] = mapped_column(String(320))
    auth_method: Mapped[str] = mapped_column(String(10), default="password")
    secret_encrypted: Mapped[str] = mapped_column(Text)
    smtp_host: Mapped[str | None] = mapped_column(String(255))
    smtp_port: Mapped[int | None] = mapped_column(Integer)
    smtp_security: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_sync_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)

    folders: Mapped[list[Folder]] = relationship(back_populates="account")


class Folder(Base):
    """An IMAP folder of an account and how far it has been synced.

    `wire_name` is the name as the server spells it (modified UTF-7, RFC 3501 5.1.3);
    `name` is the same name decoded for people ("Wysłane").
    """

    __tablename__ = "folders"
    __table_args__ = (UniqueConstraint("account_id", "wire_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    wire_name: Mapped[str] = mapped_column(String(1000))
    name: Mapped[str] = mapped_column(String(1000))
    delimiter: Mapped[str | None] = mapped_column(String(4))
    role: Mapped[str | None] = mapped_column(String(20))  # inbox, sent, drafts, ...
    selectable: Mapped[bool] = mapped_column(default=True)
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    uidnext: Mapped[int | None] = mapped_column(BigInteger)
    # Highest UID whose message is committed here; the resume point after a crash.
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    highest_modseq: Mapped[int | None] = mapped_column(BigInteger)
    message_count: Mapped[int | None] = mapped_column(Integer)
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_sync_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    account: Mapped[Account] = relationship(back_populates="folders")
