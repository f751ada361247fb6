"""Adding, finding and listing accounts."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailservice.accounts.models import Account
from mailservice.accounts.secrets import encrypt_secret
from mailservice.config import Settings
from mailservice.errors import AccountError, NotFoundError

log = logging.getLogger(__name__)

SECURITY_MODES = ("ssl", "starttls", "none")
AUTH_METHODS = ("password", "xoauth2")
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


def validate_connection(host: str, security: str, what: str) -> None:
    """Refuse plain-text mail connections anywhere but loopback."""
    if security not in SECURITY_MODES:
        raise AccountError(f"{what} security must be one of {', '.join(SECURITY_MODES)}")
    if security == "none" and host not in LOOPBACK_HOSTS and not host.startswith("127."):
        raise AccountError(
            f"{what} security 'none' sends the password in clear text; it is allowed "
            f"only on loopback, not on {host}"
        )


def add_account(
    session: Session,
    settings: Settings,
    *,
    name: str,
    imap_host: str,
    imap_port: int,
    imap_security: str,
    username: str,
    secret: str,
    auth_method: str = "password",
    email: str | None = None,
    smtp_host: str | None = None,
    smtp_port: int | None = None,
    smtp_security: str | None = None,
) -> Account:
    """Create an account with its secret encrypted; the name must be new."""
    validate_connection(imap_host, imap_security, "IMAP")
    if smtp_host:
        validate_connection(smtp_host, smtp_security or "starttls", "SMTP")
    if auth_method not in AUTH_METHODS:
        raise AccountError(f"auth method must be one of {', '.join(AUTH_METHODS)}")
    if session.scalar(select(Account.id).where(Account.name == name)) is not None:
        raise AccountError(f"an account named {name!r} exists already")

    account = Account(
        name=name,
        email=email or (username if "@" in username else None),
        imap_host=imap_host,
        imap_port=imap_port,
        imap_security=imap_security,
        username=username,
        auth_method=auth_method,
        secret_encrypted=encrypt_secret(settings, secret),
        smtp_host=smtp_host,
        smtp_port=smtp_port,
        smtp_security=smtp_security,
    )
    session.add(account)
    session.flush()
    log.info("account added account=%s id=%s", name, account.id)
    return account


def get_account(session: Session, name: str) -> Account:
    """The account called `name`, or a NotFoundError naming it."""
    account = session.scalar(select(Account).where(Account.name == name))
    if account is None:
        raise NotFoundError(f"no account named {name!r}")
    return account


def list_accounts(session: Session) -> list[Account]:
    """Every account, by name."""
    return list(session.scalars(select(Account).order_by(Account.name)))
