"""Reading threads for people: a thread's messages in date order, where they sit,
and the contacts linked to them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailservice.accounts.models import Account, Folder
from mailservice.contacts.models import Contact, MessageContact
from mailservice.errors import NotFoundError
from mailservice.messages.models import Message, MessageAddress, MessageLocation
from mailservice.threads.models import Thread

_LATEST = datetime.max.replace(tzinfo=timezone.utc)


@dataclass
class Placement:
    """One copy of a message: account, folder, its flags there, whether it is gone."""

    account: str
    folder: str
    flags: str
    removed: bool


@dataclass
class ThreadMessage:
    """A message as a thread view lists it."""

    id: int
    sent_at: datetime | None
    sender: str | None
    to: list[str]
    cc: list[str]
    subject: str | None
    placements: list[Placement] = field(default_factory=list)


@dataclass
class ThreadView:
    """A thread with its messages (earliest first) and linked contacts."""

    thread: Thread
    messages: list[ThreadMessage]
    contacts: list[tuple[int, str]]


def list_threads(session: Session, limit: int = 20) -> list[Thread]:
    """The most recently active threads, newest first."""
    return list(
        session.scalars(
            select(Thread)
            .order_by(Thread.last_at.desc().nulls_last(), Thread.id.desc())
            .limit(limit)
        )
    )


def get_thread(session: Session, thread_id: int) -> ThreadView:
    """Thread `thread_id` with its messages; NotFoundError when there is none."""
    thread = session.get(Thread, thread_id)
    if thread is None:
        raise NotFoundError(f"thread {thread_id} does not exist")

    messages = _messages(session, thread_id)
    by_id = {message.id: message for message in messages}
    _add_recipients(session, thread_id, by_id)
    _add_placements(session, thread_id, by_id)
    return ThreadView(thread, messages, _contacts(session, thread_id))


def _messages(session: Session, thread_id: int) -> list[ThreadMessage]:
    rows = session.execute(
        select(
            Message.id, Message.sent_at, Message.internal_date,
            Message.from_address, Message.subject,
        ).where(Message.thread_id == thread_id)
    ).all()
    # Undated messages go by their arrival on the server, else last.
    rows.sort(key=lambda r: (r.sent_at or r.internal_date or _LATEST, r.id))
    return [
        ThreadMessage(
            r.id, r.sent_at or r.internal_date, r.from_address, [], [], r.subject
        )
        for r in rows
    ]


def _add_recipients(
    session: Session, thread_id: int, by_id: dict[int, ThreadMessage]
) -> None:
    rows = session.execute(
        select(MessageAddress.message_id, MessageAddress.role, MessageAddress.address)
        .join(Message, Message.id == MessageAddress.message_id)
        .where(Message.thread_id == thread_id, MessageAddress.role.in_(("to", "cc")))
        .order_by(MessageAddress.id)
    )
    for message_id, role, address in rows:
        getattr(by_id[message_id], role).append(address)


def _add_placements(
    session: Session, thread_id: int, by_id: dict[int, ThreadMessage]
) -> None:
    rows = session.execute(
        select(
            MessageLocation.message_id, Account.name, Folder.name,
            MessageLocation.flags, MessageLocation.deleted_at,
        )
        .join(Folder, Folder.id == MessageLocation.folder_id)
        .join(Account, Account.id == Folder.account_id)
        .join(Message, Message.id == MessageLocation.message_id)
        .where(Message.thread_id == thread_id)
        .order_by(Account.name, Folder.name)
    )
    for message_id, account, folder, flags, deleted_at in rows:
        placement = Placement(account, folder, flags or "", deleted_at is not None)
        by_id[message_id].placements.append(placement)


def _contacts(session: Session, thread_id: int) -> list[tuple[int, str]]:
    rows = session.execute(
        select(Contact.id, Contact.name)
        .join(MessageContact, MessageContact.contact_id == Contact.id)
        .join(Message, Message.id == MessageContact.message_id)
        .where(Message.thread_id == thread_id)
        .distinct()
    )
    return sorted(
        ((contact_id, name) for contact_id, name in rows),
        key=lambda item: (item[1].casefold(), item[0]),
    )
