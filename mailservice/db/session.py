"""Engines and sessions, one engine per database URL per process."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Iterator

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

# Every mapped class must be imported before the first session is configured.
import mailservice.db.models  # noqa: F401

log = logging.getLogger(__name__)


def _tune_sqlite(dbapi_connection, _record) -> None:
    # WAL lets the web app read while a sync writes; foreign keys are off by
    # default in SQLite and our cascades rely on them.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


@lru_cache(maxsize=8)
def get_engine(url: str) -> Engine:
    """The engine for a database URL, created once per process."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
        event.listen(engine, "connect", _tune_sqlite)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    log.debug("engine created for %s", engine.url.render_as_string(hide_password=True))
    return engine


def session_factory(url: str) -> sessionmaker[Session]:
    """A session maker bound to the engine of `url`."""
    return sessionmaker(get_engine(url), expire_on_commit=False)


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    session = session_factory(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
