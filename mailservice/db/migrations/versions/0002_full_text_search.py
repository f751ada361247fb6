"""full-text search index of messages (hand-written: dialect-specific DDL)

SQLite gets an FTS5 table, PostgreSQL a tsvector table with a GIN index. Both hold
text already lowercased and stripped of diacritics by mailservice.inbox.search_index,
so a search for "zolw" finds "Żółw" on either database. Autogenerate must never
rewrite this file; when 0001 is regenerated, move this file aside meanwhile.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _upgrade_sqlite()
    else:
        _upgrade_postgresql()


def _upgrade_sqlite() -> None:
    # rowid is the message id; the columns are searched together or one by one.
    op.execute(
        "CREATE VIRTUAL TABLE message_search USING fts5("
        "subject, addresses, attachments, body, tokenize = 'unicode61')"
    )
    op.execute(
        "CREATE TRIGGER message_search_forget AFTER DELETE ON messages BEGIN "
        "DELETE FROM message_search WHERE rowid = old.id; END"
    )


def _upgrade_postgresql() -> None:
    op.execute(
        "CREATE TABLE message_search ("
        "message_id INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE, "
        "document TSVECTOR NOT NULL)"
    )
    op.execute(
        "CREATE INDEX ix_message_search_document ON message_search USING GIN (document)"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS message_search_forget")
    op.execute("DROP TABLE IF EXISTS message_search")
