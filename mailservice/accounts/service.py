"""Adding, finding and listing accounts."""

from __future__ import annotations

import logging

from sqlalchemy import delete, select
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
    validate_port(imap_port, "IMAP")
    validate_port(smtp_port, "SMTP")
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


def validate_port(port: int | None, what: str) -> None:
    """Refuse a port number no server can listen on."""
    if port is not None and not 1 <= port <= 65535:
        raise AccountError(f"{what} port must be between 1 and 65535, not {port}")


def set_secret(session: Session, settings: Settings, name: str, secret: str) -> Account:
    """Replace the stored password or token of an account (after a change or a new key)."""
    account = get_account(session, name)
    account.secret_encrypted = encrypt_secret(settings, secret)
    account.last_error = None
    log.info("account secret replaced account=%s", name)
    return account


def remove_account(session: Session, name: str) -> None:
    """Forget an account with its folders, locations, outbox and mailings.

    Messages and threads stay: they belong to the contacts' history.
    """
    account = get_account(session, name)
    # The database cascades to folders and locations (ON DELETE CASCADE).
    session.execute(delete(Account).where(Account.id == account.id))
    session.expunge(account)
    log.info("account removed account=%s", name)


def get_account(session: Session, name: str) -> Account:
    """The account called `name`, or a NotFoundError naming it."""
    account = session.scalar(select(Account).where(Account.name == name))
    if account is None:
        raise NotFoundError(f"no account named {name!r}")
    return account


def list_accounts(session: Session) -> list[Account]:
    """Every account, by name."""
    return list(session.scalars(select(Account).order_by(Account.name)))
