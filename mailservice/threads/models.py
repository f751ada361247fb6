"""Threads of messages."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from mailservice.db.base import Base
from mailservice.db.types import UtcDateTime
from mailservice.messages.models import Message
from mailservice.threads.thread_index import ROOT_KEY_LENGTH


class Thread(Base):
    """A conversation: messages joined by references, Thread-Index or subject."""

    __tablename__ = "threads"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str | None] = mapped_column(Text)
    normalized_subject: Mapped[str | None] = mapped_column(String(500), index=True)
    first_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    message_count: Mapped[int] = mapped_column(Integer, default=0)


# Threading looks messages up by the conversation header of their Thread-Index,
# the first ROOT_KEY_LENGTH characters of the stored header (thread_index.py).
# The index belongs to the messages table but is threading's concern, so it is
# declared here, next to the code that queries it. Migration 0003 creates it:
# autogenerate cannot see expression indexes on SQLite.
Index(
    "ix_messages_thread_index_root",
    func.substr(Message.thread_index, 1, ROOT_KEY_LENGTH),
)
