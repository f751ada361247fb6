"""The migrations build exactly the schema the models describe.

Objects the models cannot express are written by hand in later revisions (the
full-text tables, a partial index) and are the only differences allowed.
"""

import warnings

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from mailservice.db.models import Base
from mailservice.db.session import get_engine

HAND_WRITTEN = ("message_search", "ix_message_search", "ix_message_locations_unread")


def _name(difference) -> str:
    obj = difference[1]
    return getattr(obj, "name", "") or ""


def test_migrated_schema_matches_the_models(db_url):
    with warnings.catch_warnings():
        # SQLite cannot reflect expression indexes; alembic says so and skips them.
        warnings.simplefilter("ignore")
        with get_engine(db_url).connect() as connection:
            differences = compare_metadata(
                MigrationContext.configure(connection), Base.metadata
            )

    unexpected = [
        d for d in differences
        if isinstance(d, tuple) and not _name(d).startswith(HAND_WRITTEN)
    ]
    assert unexpected == []
