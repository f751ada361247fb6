"""Joining by subject, the fallback for replies whose references were lost.

Two messages A and B (A sent no later than B) are joined when all of these hold:

- they have the same normalised subject, and it says something (not empty, not a
  "(no subject)" placeholder);
- B was sent within `Settings.thread_subject_window_days` of A;
- B is a reply: its subject has a reply/forward prefix, or it has In-Reply-To or
  References (whose parent we may never have seen). Two fresh "Faktura 12/2026"
  mails a week apart stay two threads;
- they share a party: an outside address in From, To, Cc, Bcc or Reply-To of both,
  or a contact linked to both. A stranger's "Re: Faktura" never joins by subject.

"Outside" leaves out the addresses of our own accounts and their company domains
(not free-mail domains such as gmail.com): the mailbox itself is a party of every
message it holds, so counting it would let any two messages share a party. Sender
is left out too: a list server or a mailing service sends on behalf of many.

The rule looks only at the two messages, never at what else happens to be stored,
so the result does not depend on arrival order, with one exception below.
"""

# TODO: contact links are read as they are when a message is threaded; a contact
# created (or an address added to one) after both messages were threaded does not
# join them by subject, because nothing rethreads linked messages yet.

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailservice.accounts.models import Account
from mailservice.config import Settings
from mailservice.contacts.models import MessageContact
from mailservice.messages.models import Message, MessageAddress, MessageReference
from mailservice.threads.batch import ThreadedMessage, in_chunks
from mailservice.threads.links import Pair
from mailservice.threads.subject import is_generic_subject, is_reply_subject

PARTY_ROLES = ("from", "to", "cc", "bcc", "reply_to")


@dataclass
class _Party:
    """A message as the subject rule sees it."""

    id: int
    subject: str | None
    sent_at: datetime
    has_references: bool
    addresses: set[str] = field(default_factory=set)
    contacts: set[int] = field(default_factory=set)

    @property
    def is_reply(self) -> bool:
        return self.has_references or is_reply_subject(self.subject)


def subject_links(
    session: Session, settings: Settings, batch: dict[int, ThreadedMessage]
) -> set[Pair]:
    """Pairs joined by the subject rule of this module."""
    eligible = [
        m for m in batch.values()
        if m.sent_at is not None and not is_generic_subject(m.normalized_subject)
    ]
    if not eligible:
        return set()

    window = timedelta(days=settings.thread_subject_window_days)
    mine = _batch_parties(session, settings, eligible)
    others = _candidates(session, eligible, mine, window)
    found = [party for by_id in others.values() for party in by_id.values()]
    _mark_references(session, list(mine.values()) + found)

    pairs: set[Pair] = set()
    for message in eligible:
        for other in others.get(message.normalized_subject, {}).values():
            if other.id != message.id and _joins(mine[message.id], other, window):
                pairs.add((message.id, other.id))
    return pairs


def _joins(a: _Party, b: _Party, window: timedelta) -> bool:
    if abs(a.sent_at - b.sent_at) > window:
        return False
    if a.sent_at == b.sent_at:
        answers = a.is_reply or b.is_reply
    else:
        answers = (a if a.sent_at > b.sent_at else b).is_reply
    return answers and bool(a.addresses & b.addresses or a.contacts & b.contacts)


def _batch_parties(
    session: Session, settings: Settings, eligible: list[ThreadedMessage]
) -> dict[int, _Party]:
    parties = {
        m.id: _Party(m.id, m.subject, m.sent_at, m.in_reply_to is not None)
        for m in eligible
    }
    own_addresses, own_domains = _own_parties(session, settings)

    for chunk in in_chunks(parties):
        rows = session.execute(
            select(
                MessageAddress.message_id,
                MessageAddress.address_norm,
                MessageAddress.domain,
            ).where(
                MessageAddress.message_id.in_(chunk),
                MessageAddress.role.in_(PARTY_ROLES),
            )
        )
        for message_id, address, domain in rows:
            if address not in own_addresses and domain.lower() not in own_domains:
                parties[message_id].addresses.add(address)

        rows = session.execute(
            select(MessageContact.message_id, MessageContact.contact_id).where(
                MessageContact.message_id.in_(chunk)
            )
        )
        for message_id, contact_id in rows:
            parties[message_id].contacts.add(contact_id)
    return parties


def _own_parties(session: Session, settings: Settings) -> tuple[set[str], set[str]]:
    addresses: set[str] = set()
    for email, username in session.execute(select(Account.email, Account.username)):
        addresses.update(a.strip().lower() for a in (email, username) if a and "@" in a)

    free = {domain.lower() for domain in settings.free_mail_domains}
    domains = {a.rpartition("@")[2] for a in addresses} - free
    return addresses, domains


def _candidates(
    session: Session,
    eligible: list[ThreadedMessage],
    mine: dict[int, _Party],
    window: timedelta,
) -> dict[str, dict[int, _Party]]:
    """Stored messages with a batch subject, in the window, sharing some party."""
    subjects = sorted({m.normalized_subject for m in eligible})
    earliest = min(m.sent_at for m in eligible) - window
    latest = max(m.sent_at for m in eligible) + window
    base = select(
        Message.id, Message.normalized_subject, Message.subject,
        Message.sent_at, Message.in_reply_to,
    ).where(
        Message.normalized_subject.in_(subjects),
        Message.sent_at.between(earliest, latest),
    )
    addresses = sorted(set().union(*(p.addresses for p in mine.values())))
    contacts = sorted(set().union(*(p.contacts for p in mine.values())))

    found: dict[str, dict[int, _Party]] = defaultdict(dict)
    for chunk in in_chunks(addresses):
        query = base.add_columns(MessageAddress.address_norm).join(
            MessageAddress, MessageAddress.message_id == Message.id
        ).where(
            MessageAddress.address_norm.in_(chunk),
            MessageAddress.role.in_(PARTY_ROLES),
        )
        for row in session.execute(query):
            _party(found, row).addresses.add(row.address_norm)

    for chunk in in_chunks(contacts):
        query = base.add_columns(MessageContact.contact_id).join(
            MessageContact, MessageContact.message_id == Message.id
        ).where(MessageContact.contact_id.in_(chunk))
        for row in session.execute(query):
            _party(found, row).contacts.add(row.contact_id)
    return found


def _party(found: dict[str, dict[int, _Party]], row) -> _Party:
    by_id = found[row.normalized_subject]
    if row.id not in by_id:
        by_id[row.id] = _Party(
            row.id, row.subject, row.sent_at, row.in_reply_to is not None
        )
    return by_id[row.id]


def _mark_references(session: Session, parties: list[_Party]) -> None:
    """Set has_references on every party that has a MessageReference row."""
    by_id: dict[int, list[_Party]] = defaultdict(list)
    for party in parties:
        if not party.has_references:
            by_id[party.id].append(party)

    for chunk in in_chunks(by_id):
        rows = session.scalars(
            select(MessageReference.message_id)
            .where(MessageReference.message_id.in_(chunk))
            .distinct()
        )
        for message_id in rows:
            for party in by_id[message_id]:
                party.has_references = True
