"""A contact's mail history, thread by thread; finding a contact by what people type."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from stdnum.pl import nip as stdnum_nip

from mailservice.contacts.models import Contact, ContactAddress, MessageContact
from mailservice.errors import ContactError, NotFoundError
from mailservice.messages.models import Message, MessageAddress
from mailservice.threads.models import Thread

PARTICIPANT_ROLES = ("from", "to", "cc")
NO_DATE = datetime.min.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class Participant:
    """Someone who wrote or was written to in a thread."""

    name: str | None
    address: str

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>" if self.name else self.address


@dataclass
class ThreadSummary:
    """One thread of a contact's history; thread_id is None for unthreaded mail."""

    thread_id: int | None
    subject: str | None
    first_at: datetime | None
    last_at: datetime | None
    message_count: int
    participants: list[Participant] = field(default_factory=list)
    message_id: int | None = None  # the one message, for unthreaded mail


def contact_history(session: Session, contact_id: int) -> list[ThreadSummary]:
    """The threads holding mail linked to the contact, the latest activity first.

    Counts and dates cover the whole thread, including messages not linked to
    the contact (our own replies, a colleague forwarding it).
    """
    linked = select(MessageContact.message_id).where(
        MessageContact.contact_id == contact_id
    )
    touched = select(Message.thread_id).where(
        Message.id.in_(linked), Message.thread_id.is_not(None)
    )
    unthreaded = select(Message.id).where(
        Message.id.in_(linked), Message.thread_id.is_(None)
    )
    summaries = _threads(session, touched) + _unthreaded(session, unthreaded)
    _add_participants(session, summaries, touched, unthreaded)

    summaries.sort(key=lambda s: s.last_at or NO_DATE, reverse=True)
    return summaries


def find_contact(session: Session, query: str) -> Contact:
    """The one contact meant by an id, a NIP, or (part of) a name."""
    text = query.strip()
    if stdnum_nip.is_valid(text):
        nip = stdnum_nip.compact(text)
        contact = session.scalar(select(Contact).filter_by(nip=nip))
        if contact is not None:
            return contact
    if text.isdigit():
        contact = session.get(Contact, int(text))
        if contact is not None:
            return contact
    return _by_name(session, text)


def _message_date():
    return func.coalesce(Message.sent_at, Message.internal_date)


def _threads(session: Session, touched) -> list[ThreadSummary]:
    rows = session.execute(
        select(
            Thread.id,
            Thread.subject,
            func.min(_message_date()),
            func.max(_message_date()),
            func.count(Message.id),
        )
        .join(Message, Message.thread_id == Thread.id)
        .where(Thread.id.in_(touched))
        .group_by(Thread.id, Thread.subject)
    )
    return [ThreadSummary(*row) for row in rows]


def _unthreaded(session: Session, unthreaded) -> list[ThreadSummary]:
    # Mail not threaded yet still belongs to the history, each message alone.
    rows = session.execute(
        select(Message.id, Message.subject, _message_date()).where(
            Message.id.in_(unthreaded)
        )
    )
    return [
        ThreadSummary(None, subject, date, date, 1, message_id=message_id)
        for message_id, subject, date in rows
    ]


def _add_participants(
    session: Session, summaries: list[ThreadSummary], touched, unthreaded
) -> None:
    rows = session.execute(
        select(
            Message.thread_id,
            Message.id,
            MessageAddress.name,
            MessageAddress.address_norm,
        )
        .join(Message, Message.id == MessageAddress.message_id)
        .where(
            or_(Message.thread_id.in_(touched), Message.id.in_(unthreaded)),
            MessageAddress.role.in_(PARTICIPANT_ROLES),
        )
        .order_by(_message_date(), MessageAddress.id)
    )
    # Keyed by thread, or by message for unthreaded mail; the first name seen
    # for an address is kept, in the order people joined the conversation.
    seen: dict[tuple, dict[str, Participant]] = defaultdict(dict)
    for thread_id, message_id, name, address in rows:
        people = seen[_key(thread_id, message_id)]
        if address not in people or (name and not people[address].name):
            people[address] = Participant(name or None, address)

    for summary in summaries:
        key = _key(summary.thread_id, summary.message_id)
        summary.participants = list(seen[key].values())


def _key(thread_id: int | None, message_id: int | None) -> tuple[str, int | None]:
    return ("thread", thread_id) if thread_id is not None else ("message", message_id)


def _by_name(session: Session, text: str) -> Contact:
    # Compared in Python: SQLite's lower() and LIKE fold ASCII only, not "Ł".
    key = text.casefold()
    names = session.execute(select(Contact.id, Contact.name)).all()
    exact = [cid for cid, name in names if name.casefold() == key]
    partial = [cid for cid, name in names if key in name.casefold()]
    found = exact or partial
    if not found:
        raise NotFoundError(f"no contact matches {text!r}")
    if len(found) > 1:
        shown = ", ".join(f"{cid} {name!r}" for cid, name in names if cid in found[:5])
        raise ContactError(
            f"{text!r} matches {len(found)} contacts ({shown}); use the id"
        )
    return session.get(Contact, found[0])


@dataclass(frozen=True)
class ContactListing:
    """A line of the contact list: the contact and how much it holds."""

    contact: Contact
    address_count: int
    message_count: int


def list_contacts(session: Session) -> list[ContactListing]:
    """Every contact by name, with its number of addresses and linked messages."""
    addresses = (
        select(func.count(ContactAddress.id))
        .where(ContactAddress.contact_id == Contact.id)
        .scalar_subquery()
    )
    messages = (
        select(func.count(MessageContact.id))
        .where(MessageContact.contact_id == Contact.id)
        .scalar_subquery()
    )
    rows = session.execute(select(Contact, addresses, messages).order_by(Contact.name))
    return [ContactListing(*row) for row in rows]
