"""Login throttling kept in the database, so every web worker sees the same counts."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from mailservice.db.base import utcnow
from mailservice.errors import LoginThrottledError
from mailservice.users.models import LoginAttempt

log = logging.getLogger(__name__)

WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_EMAIL = 5
# Higher: an office shares one public address, and a typo is no attack.
MAX_FAILURES_PER_IP = 30
KEEP_ATTEMPTS = timedelta(days=7)


def check_throttle(session: Session, email: str, ip: str) -> None:
    """Raise LoginThrottledError while an e-mail or an address has failed too often."""
    since = utcnow() - WINDOW
    failures = select(func.count(LoginAttempt.id)).where(
        LoginAttempt.succeeded.is_(False), LoginAttempt.at > since
    )
    by_email = session.scalar(failures.where(LoginAttempt.email == email.lower()))
    by_ip = session.scalar(failures.where(LoginAttempt.ip == ip))
    if by_email >= MAX_FAILURES_PER_EMAIL or by_ip >= MAX_FAILURES_PER_IP:
        log.warning("login throttled email_failures=%s ip_failures=%s", by_email, by_ip)
        minutes = int(WINDOW.total_seconds() // 60)
        raise LoginThrottledError(
            f"too many failed logins; try again in {minutes} minutes"
        )


def record_attempt(session: Session, email: str, ip: str, succeeded: bool) -> None:
    """Remember one login attempt; a success clears the e-mail's failures."""
    email = email.strip().lower()[:320]
    if succeeded:
        session.execute(
            delete(LoginAttempt).where(
                LoginAttempt.email == email, LoginAttempt.succeeded.is_(False)
            )
        )
    session.add(LoginAttempt(email=email, ip=ip[:64], succeeded=succeeded))
    session.execute(
        delete(LoginAttempt).where(LoginAttempt.at < utcnow() - KEEP_ATTEMPTS)
    )
