"""What every command needs: the settings, logging, and a database session."""

from __future__ import annotations

import logging
import sys
from contextlib import contextmanager
from typing import Iterator

import click
from sqlalchemy import exc as sa_exc
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
    """Turn domain and database errors into a one-line message and exit status 1."""
    try:
        yield
    except MailserviceError as exc:
        raise click.ClickException(str(exc)) from exc
    except (sa_exc.ArgumentError, sa_exc.NoSuchModuleError) as exc:
        raise click.ClickException(
            f"MAILSERVICE_DATABASE_URL is not a usable database URL: {exc}; use "
            "sqlite:///PATH or postgresql+psycopg://USER:PASSWORD@HOST/DB"
        ) from exc
    except sa_exc.DBAPIError as exc:
        raise click.ClickException(_database_problem(exc)) from exc


def _database_problem(exc: sa_exc.DBAPIError) -> str:
    text = str(exc.orig)
    if "no such table" in text or "does not exist" in text and "relation" in text:
        return "the database has no schema yet: run `mailservice init` first"
    if isinstance(exc, sa_exc.OperationalError):
        return f"the database cannot be reached: {text.strip().splitlines()[0]}"
    return f"the database refused the request: {text.strip().splitlines()[0]}"
