"""Inbox state kept beside the synced mail: who handles a thread, whose images load."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mailservice.db.base import Base, utcnow
from mailservice.db.types import UtcDateTime


class ThreadState(Base):
    """The work state of a thread: the colleague it is assigned to, and if handled."""

    __tablename__ = "thread_states"

    thread_id: Mapped[int] = mapped_column(
        ForeignKey("threads.id", ondelete="CASCADE"), primary_key=True
    )
    assigned_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    assigned_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    handled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    handled_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class RemoteContentSender(Base):
    """A sender whose remote images a user chose to always load."""

    __tablename__ = "remote_content_senders"
    __table_args__ = (UniqueConstraint("user_id", "address_norm"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    address_norm: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
