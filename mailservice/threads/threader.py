"""Putting messages into threads, independent of the order they arrive in."""

from __future__ import annotations

from sqlalchemy.orm import Session

from mailservice.config import Settings


def thread_messages(session: Session, settings: Settings, message_ids: list[int]) -> None:
    """Place each message into a thread, merging threads it connects."""
    raise NotImplementedError  # TODO: being written (threading helper)
