"""Threads of messages."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mailservice.db.base import Base
from mailservice.db.types import UtcDateTime


class Thread(Base):
    """A conversation: messages joined by references, Thread-Index or subject."""

    __tablename__ = "threads"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str | None] = mapped_column(Text)
    normalized_subject: Mapped[str | None] = mapped_column(String(500), index=True)
    first_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    message_count: Mapped[int] = mapped_column(Integer, default=0)
