"""IMAP flags as stored on a message location: one space-separated string."""

from __future__ import annotations

from sqlalchemy import ColumnElement

from mailservice.messages.models import MessageLocation

SEEN = "\\Seen"
FLAGGED = "\\Flagged"
DELETED = "\\Deleted"

# The predicate of the partial index ix_message_locations_unread (migration 0002),
# spelt exactly as there: planners use a partial index only for its own predicate.
UNREAD_LIVE = {
    "sqlite": "deleted_at IS NULL AND flags NOT LIKE '%\\Seen%'",
    "postgresql": "deleted_at IS NULL AND strpos(flags, '\\Seen') = 0",
}


def parse_flags(flags: str | None) -> set[str]:
    """The set of flags in a stored flags string."""
    return set((flags or "").split())


def format_flags(flags: set[str]) -> str:
    """The stored form of a set of flags, sorted so equal sets compare equal."""
    return " ".join(sorted(flags))


def unseen() -> ColumnElement[bool]:
    """SQL condition: the location has no \\Seen flag (RFC 3501 2.3.2)."""
    return ~MessageLocation.flags.contains(SEEN, autoescape=True)
