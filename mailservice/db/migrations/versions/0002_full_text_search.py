"""full-text search of messages, and unread counts (hand-written: dialect DDL)

SQLite gets an FTS5 table, PostgreSQL a tsvector table with a GIN index. Both hold
text already lowercased and stripped of diacritics by mailservice.inbox.search_index,
so a search for "zolw" finds "Żółw" on either database.

A partial index holds only the live, unread message locations, so a folder's
unread count reads a few thousand index entries, not the whole folder; its
predicate must stay the text of mailservice.inbox.flags.UNREAD_LIVE, or the
planners stop using it. Autogenerate must never rewrite this file; when 0001 is
regenerated, move this file aside meanwhile.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

# Kept literally in step with mailservice.inbox.flags.UNREAD_LIVE (see above).
UNREAD_LIVE = {
    "sqlite": "deleted_at IS NULL AND flags NOT LIKE '%\\Seen%'",
    "postgresql": "deleted_at IS NULL AND strpos(flags, '\\Seen') = 0",
}

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _upgrade_sqlite()
    else:
        _upgrade_postgresql()
    op.execute(
        "CREATE INDEX ix_message_locations_unread ON message_locations (folder_id) "
        f"WHERE {UNREAD_LIVE[dialect]}"
    )


def _upgrade_sqlite() -> None:
    # rowid is the message id; the columns are searched together or one by one.
    # Prefix indexes: every search word matches as a prefix ("fakt" finds
    # "faktura"), which without them scans the term list (2-3x slower).
    op.execute(
        "CREATE VIRTUAL TABLE message_search USING fts5("
        "subject, addresses, attachments, body, tokenize = 'unicode61', "
        "prefix = '2 3 4')"
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
    op.execute("DROP INDEX IF EXISTS ix_message_locations_unread")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS message_search_forget")
    op.execute("DROP TABLE IF EXISTS message_search")
