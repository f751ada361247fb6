"""What every command needs: the settings, logging, and a database session."""

from __future__ import annotations

import logging
import sys
from contextlib import contextmanager
from typing import Iterator

import click
from sqlalchemy.orm import Session

from mailservice.config import Settings, get_settings
from mailservice.db.session import session_scope
from mailservice.errors import MailserviceError


def setup_logging(verbose: bool) -> None:
    """Log lines to stderr; -v shows per-item debug lines."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # imapclient logs every command at debug; keep its wire traffic out of -v.
    logging.getLogger("imapclient").setLevel(logging.WARNING)


def settings() -> Settings:
    """The process settings (one place, so tests can swap them)."""
    return get_settings()


@contextmanager
def db_session() -> Iterator[Session]:
    """A committing session on the configured database."""
    with session_scope(settings().effective_database_url) as session:
        yield session


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn domain errors into a one-line message and exit status 1."""
    try:
        yield
    except MailserviceError as exc:
        raise click.ClickException(str(exc)) from exc
