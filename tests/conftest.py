"""Shared fixtures: a fresh database on SQLite and on PostgreSQL, and settings for it.

Every test that takes `db_url` (or `session`) runs twice, once per database. The
PostgreSQL server must be reachable (CI starts it); a missing server fails the test.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from mailservice.config import Settings
from mailservice.db.migrate import upgrade_database
from mailservice.db.session import get_engine, session_factory

PG_ADMIN_URL = os.environ.get(
    "MAILSERVICE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
CORPUS_DIR = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def _fresh_postgres_database() -> tuple[str, callable]:
    name = f"ms_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(PG_ADMIN_URL).set(database=name).render_as_string(
        hide_password=False
    )

    def drop() -> None:
        get_engine(url).dispose()
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> str:
    """A migrated, empty database: SQLite in a temp folder, or a new PostgreSQL db."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
        upgrade_database(url)
        yield url
        get_engine(url).dispose()
        return
    url, drop = _fresh_postgres_database()
    upgrade_database(url)
    yield url
    drop()


@pytest.fixture
def settings(db_url, tmp_path) -> Settings:
    """Settings pointing at the test database and a temp data folder."""
    return Settings(
        data_dir=tmp_path / "data",
        database_url=db_url,
        outbox_dir=tmp_path / "outbox",
        secret_key="",
    )


@pytest.fixture
def session(db_url):
    """A session on the test database; the test commits what it means to keep."""
    session = session_factory(db_url)()
    yield session
    session.rollback()
    session.close()
