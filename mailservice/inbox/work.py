"""Who handles a thread: assigning it to a colleague and marking it handled."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailservice.db.base import utcnow
from mailservice.errors import NotFoundError, UserError
from mailservice.inbox.models import RemoteContentSender, ThreadState
from mailservice.users.models import User

log = logging.getLogger(__name__)


def _state(session: Session, thread_id: int) -> ThreadState:
    state = session.get(ThreadState, thread_id)
    if state is None:
        state = ThreadState(thread_id=thread_id)
        session.add(state)
    return state


def assign_thread(session: Session, thread_id: int, user_id: int | None) -> None:
    """Give a thread to a colleague, or take it back from anyone (None)."""
    if user_id is not None:
        user = session.get(User, user_id)
        if user is None or not user.is_active:
            raise NotFoundError(f"no active user with id {user_id}")
    state = _state(session, thread_id)
    state.assigned_user_id = user_id
    state.assigned_at = utcnow() if user_id else None
    log.info("thread assigned thread=%s user=%s", thread_id, user_id)


def set_handled(session: Session, thread_id: int, user_id: int, handled: bool) -> None:
    """Mark a thread handled (or open again), remembering who did it."""
    state = _state(session, thread_id)
    state.handled_at = utcnow() if handled else None
    state.handled_by_id = user_id if handled else None
    log.info("thread handled=%s thread=%s user=%s", handled, thread_id, user_id)


def colleagues(session: Session) -> list[User]:
    """Active users a thread can be assigned to, by name."""
    users = session.scalars(select(User).where(User.is_active.is_(True)))
    return sorted(users, key=lambda u: (u.name or u.email).casefold())


def allow_remote_content(session: Session, user_id: int, address: str) -> None:
    """Always load remote images in mail from this sender, for this user."""
    norm = address.strip().lower()
    if "@" not in norm:
        raise UserError(f"{address!r} is not an e-mail address")
    if not remote_content_allowed(session, user_id, norm):
        session.add(RemoteContentSender(user_id=user_id, address_norm=norm))
        log.info("remote content allowed user=%s", user_id)


def remote_content_allowed(session: Session, user_id: int, address: str | None) -> bool:
    """Whether the user chose to always load remote content from this sender."""
    if not address:
        return False
    return (
        session.scalar(
            select(RemoteContentSender.id).where(
                RemoteContentSender.user_id == user_id,
                RemoteContentSender.address_norm == address.strip().lower(),
            )
        )
        is not None
    )
