"""Creating users, granting them accounts, and checking their passwords."""

from __future__ import annotations

import logging

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mailservice.accounts.models import Account
from mailservice.errors import NotFoundError, UserError
from mailservice.users.models import LOCALES, ROLES, AccountGrant, User
from mailservice.users.passwords import (
    MIN_PASSWORD_LENGTH,
    hash_password,
    needs_rehash,
    verify_password,
)

log = logging.getLogger(__name__)


def add_user(
    session: Session,
    email: str,
    password: str,
    *,
    role: str = "staff",
    name: str | None = None,
    locale: str = "pl",
) -> User:
    """Create a user; the e-mail must be new and the password long enough."""
    email = _clean_email(email)
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if locale not in LOCALES:
        raise UserError(f"language must be one of {', '.join(LOCALES)}, not {locale!r}")
    _check_password(password)
    if find_user(session, email) is not None:
        raise UserError(f"a user {email} exists already")

    user = User(
        email=email,
        name=name,
        role=role,
        locale=locale,
        password_hash=hash_password(password),
    )
    session.add(user)
    session.flush()
    log.info("user added user=%s role=%s", user.id, role)
    return user


def find_user(session: Session, email: str) -> User | None:
    """The user with this e-mail (any case), or None."""
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def get_user(session: Session, email: str) -> User:
    """The user with this e-mail, or a NotFoundError naming it."""
    user = find_user(session, email)
    if user is None:
        raise NotFoundError(f"no user {email}")
    return user


def check_login(session: Session, email: str, password: str) -> User | None:
    """The active user whose password this is, or None; upgrades old hashes."""
    user = find_user(session, email)
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def set_password(session: Session, user: User, password: str) -> None:
    """Replace a user's password."""
    _check_password(password)
    user.password_hash = hash_password(password)
    log.info("password changed user=%s", user.id)


def grant_account(session: Session, user: User, account: Account) -> None:
    """Let a user read and act on one account's mail (idempotent)."""
    exists = session.scalar(
        select(AccountGrant.id).where(
            AccountGrant.user_id == user.id, AccountGrant.account_id == account.id
        )
    )
    if exists is None:
        session.add(AccountGrant(user_id=user.id, account_id=account.id))
        session.flush()
        log.info("account granted user=%s account=%s", user.id, account.id)


def revoke_account(session: Session, user: User, account: Account) -> None:
    """Take an account's mail away from a user."""
    session.execute(
        delete(AccountGrant).where(
            AccountGrant.user_id == user.id, AccountGrant.account_id == account.id
        )
    )
    log.info("account revoked user=%s account=%s", user.id, account.id)


def list_users(session: Session) -> list[User]:
    """Every user, by e-mail."""
    return list(session.scalars(select(User).order_by(User.email)))


def _clean_email(email: str) -> str:
    email = email.strip().lower()
    if "@" not in email or " " in email or len(email) > 320:
        raise UserError(f"{email!r} is not an e-mail address")
    return email


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(
            f"the password must have at least {MIN_PASSWORD_LENGTH} characters"
        )
