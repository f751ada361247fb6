"""Linking messages to contacts by address, then by domain."""

from __future__ import annotations

from sqlalchemy.orm import Session

from mailservice.config import Settings


def link_messages(session: Session, settings: Settings, message_ids: list[int]) -> None:
    """Link each message to every contact whose address or domain appears in it."""
    raise NotImplementedError  # TODO: being written (contacts helper)
