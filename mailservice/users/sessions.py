"""Server-side login sessions: a random token in the cookie, its hash in the table."""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, joinedload

from mailservice.db.base import utcnow
from mailservice.users.models import User, UserSession

log = logging.getLogger(__name__)

SESSION_LIFETIME = timedelta(days=14)
# last_seen_at is written at most this often, so reading pages costs no write.
TOUCH_INTERVAL = timedelta(minutes=5)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(
    session: Session, user: User, *, ip: str | None, user_agent: str | None
) -> tuple[str, UserSession]:
    """Open a session for `user`; returns the cookie token (only ever seen here)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    row = UserSession(
        token_hash=_hash(token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
        expires_at=now + SESSION_LIFETIME,
        ip=(ip or "")[:64] or None,
        user_agent=(user_agent or "")[:300] or None,
    )
    session.add(row)
    # Expired sessions of the user go now; nobody else ever needs them.
    session.execute(
        delete(UserSession).where(
            UserSession.user_id == user.id, UserSession.expires_at <= now
        )
    )
    session.flush()
    log.info("session started user=%s session=%s", user.id, row.id)
    return token, row


def find_session(
    session: Session, token: str | None, now: datetime | None = None
) -> UserSession | None:
    """The live session of a cookie token with its active user, or None."""
    if not token or len(token) > 100:
        return None
    row = session.scalar(
        select(UserSession)
        .where(UserSession.token_hash == _hash(token))
        .options(joinedload(UserSession.user))
    )
    now = now or utcnow()
    if row is None or row.expires_at <= now or not row.user.is_active:
        return None
    if now - row.last_seen_at > TOUCH_INTERVAL:
        row.last_seen_at = now
    return row


def end_session(session: Session, row: UserSession) -> None:
    """Log one browser out."""
    session.delete(row)
    log.info("session ended user=%s session=%s", row.user_id, row.id)


def end_all_sessions(session: Session, user_id: int) -> int:
    """Log a user out everywhere; returns how many sessions were ended."""
    result = session.execute(delete(UserSession).where(UserSession.user_id == user_id))
    log.info("all sessions ended user=%s count=%s", user_id, result.rowcount)
    return result.rowcount or 0


def csrf_matches(row: UserSession, sent: str | None) -> bool:
    """Whether a form's CSRF token is this session's, compared in constant time."""
    return bool(sent) and secrets.compare_digest(row.csrf_token, sent)
