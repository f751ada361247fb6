"""The details of a list of threads: sender, contacts, snippet, marks and state.

A list first picks its thread ids (thread_list, contact history); these few
grouped queries then fill the page's rows, whatever the size of the folder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, Integer, and_, cast, func, select, true
from sqlalchemy.orm import Session, aliased

from mailservice.contacts.models import Contact, MessageContact
from mailservice.inbox.flags import SEEN
from mailservice.inbox.models import ThreadState
from mailservice.messages.models import Message, MessageLocation
from mailservice.users.models import User


@dataclass
class ThreadRow:
    """One line of a thread list."""

    thread_id: int
    last_at: datetime | None
    subject: str | None = None
    snippet: str | None = None
    sender_name: str | None = None
    sender_address: str | None = None
    message_count: int = 0
    has_attachments: bool = False
    unread: int = 0
    contacts: list[tuple[int, str]] = field(default_factory=list)
    assigned_to: str | None = None
    handled: bool = False


def fill_rows(
    session: Session,
    rows: list[ThreadRow],
    *,
    folder_id: int | None = None,
    visible: ColumnElement[bool] | None = None,
) -> list[ThreadRow]:
    """Fill the rows from the messages in `folder_id`, or from all visible ones."""
    if not rows:
        return rows
    by_id = {row.thread_id: row for row in rows}
    ids = list(by_id)

    def scope(location):
        # The copies a row speaks for: this folder's, or any live visible one.
        if folder_id is not None:
            return and_(location.folder_id == folder_id, location.deleted_at.is_(None))
        return and_(
            location.deleted_at.is_(None), visible if visible is not None else true()
        )

    _fill_latest(session, by_id, ids, scope(MessageLocation))
    _fill_counts(session, by_id, ids, scope, visible)
    _fill_contacts(session, by_id, ids)
    _fill_states(session, by_id, ids)
    return rows


def _fill_latest(session: Session, by_id, ids, scope) -> None:
    # The newest message of each thread within the scope gives sender and snippet.
    newest = func.row_number().over(
        partition_by=Message.thread_id,
        order_by=(Message.sent_at.desc(), Message.id.desc()),
    )
    ranked = (
        select(
            Message.thread_id,
            Message.subject,
            Message.snippet,
            Message.from_name,
            Message.from_address,
            newest.label("rank"),
        )
        .join(MessageLocation, MessageLocation.message_id == Message.id)
        .where(Message.thread_id.in_(ids), scope)
        .subquery()
    )
    for row in session.execute(select(ranked).where(ranked.c.rank == 1)):
        target = by_id[row.thread_id]
        target.subject = row.subject
        target.snippet = row.snippet
        target.sender_name = row.from_name
        target.sender_address = row.from_address


def _fill_counts(session: Session, by_id, ids, scope, visible) -> None:
    # One pass: messages (visible ones), attachment mark, and unread copies in
    # scope, joined only where unread so each message counts once.
    unread = aliased(MessageLocation)
    statement = (
        select(
            Message.thread_id,
            func.count(func.distinct(Message.id)),
            func.max(cast(Message.has_attachments, Integer)),
            func.count(func.distinct(unread.message_id)),
        )
        .outerjoin(
            unread,
            and_(
                unread.message_id == Message.id,
                scope(unread),
                ~unread.flags.contains(SEEN, autoescape=True),
            ),
        )
        .where(Message.thread_id.in_(ids))
        .group_by(Message.thread_id)
    )
    if visible is not None:
        statement = statement.where(visible)
    for thread_id, count, attachments, unread_count in session.execute(statement):
        row = by_id[thread_id]
        row.message_count, row.unread = count, unread_count
        row.has_attachments = bool(attachments)


def _fill_contacts(session: Session, by_id, ids) -> None:
    statement = (
        select(Message.thread_id, Contact.id, Contact.name)
        .join(MessageContact, MessageContact.message_id == Message.id)
        .join(Contact, Contact.id == MessageContact.contact_id)
        .where(Message.thread_id.in_(ids))
        .distinct()
        .order_by(Contact.name)
    )
    for thread_id, contact_id, name in session.execute(statement):
        by_id[thread_id].contacts.append((contact_id, name))


def _fill_states(session: Session, by_id, ids) -> None:
    statement = (
        select(ThreadState.thread_id, ThreadState.handled_at, User.name, User.email)
        .outerjoin(User, User.id == ThreadState.assigned_user_id)
        .where(ThreadState.thread_id.in_(ids))
    )
    for thread_id, handled_at, name, email in session.execute(statement):
        by_id[thread_id].handled = handled_at is not None
        by_id[thread_id].assigned_to = name or email
