"""index on the Thread-Index conversation prefix (hand-written: expression index)

Threading finds the messages of an Outlook conversation by the first 29 base64
characters of their Thread-Index (mailservice.threads.thread_index). Autogenerate
cannot reflect expression indexes on SQLite and skips this one, so it lives in its
own revision; when 0001 is regenerated, move this file aside meanwhile.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_messages_thread_index_root",
        "messages",
        [sa.text("substr(thread_index, 1, 29)")],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_messages_thread_index_root", table_name="messages")
