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
so the result does not depend on arrival order (but see the TODO below).
"""

# TODO: contact links and our own accounts are read as they are when a message is
# threaded; a contact created (or an address added to one) or an account added
# after both messages were threaded does not change their subject link, because
# nothing rethreads stored messages yet.

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
from mailservice.threads.batch import ThreadedMessage, in_chunks, one_of
from mailservice.threads.links import Pair
from mailservice.threads.subject import is_generic_subject, is_reply_subject

PARTY_ROLES = ("from", "to", "cc", "bcc", "reply_to")


@dataclass
class _Party:
    """A message as the subject rule sees it."""

    id: int
    normalized_subject: str | None
    sent_at: datetime
    # A reply or forward by its subject or In-Reply-To; _mark_references adds
    # those with only References.
    is_reply: bool
    addresses: set[str] = field(default_factory=set)
    contacts: set[int] = field(default_factory=set)

    @classmethod
    def of(cls, row) -> _Party:
        """The party of a row with id, subject, sent_at, in_reply_to and the rest."""
        replies = row.in_reply_to is not None or is_reply_subject(row.subject)
        return cls(row.id, row.normalized_subject, row.sent_at, replies)


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
    parties = {m.id: _Party.of(m) for m in eligible}
    own_addresses, own_domains = _own_parties(session, settings)

    for chunk in in_chunks(parties):
        rows = session.execute(
            select(
                MessageAddress.message_id,
                MessageAddress.address_norm,
                MessageAddress.domain,
            ).where(
                one_of(session, MessageAddress.message_id, chunk),
                MessageAddress.role.in_(PARTY_ROLES),
            )
        )
        for message_id, address, domain in rows:
            if address not in own_addresses and domain.lower() not in own_domains:
                parties[message_id].addresses.add(address)

        rows = session.execute(
            select(MessageContact.message_id, MessageContact.contact_id).where(
                one_of(session, MessageContact.message_id, chunk)
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
    same_subject = _same_subject(session, eligible, window)
    _add_shared_parties(session, same_subject, mine)

    found: dict[str, dict[int, _Party]] = defaultdict(dict)
    for party in same_subject.values():
        if party.addresses or party.contacts:
            found[party.normalized_subject][party.id] = party
    return found


def _same_subject(
    session: Session, eligible: list[ThreadedMessage], window: timedelta
) -> dict[int, _Party]:
    # Subject first: its index narrows to a handful of rows, where a customer's
    # address can match thousands of messages.
    earliest = min(m.sent_at for m in eligible) - window
    latest = max(m.sent_at for m in eligible) + window
    found: dict[int, _Party] = {}
    for chunk in in_chunks(sorted({m.normalized_subject for m in eligible})):
        rows = session.execute(
            select(
                Message.id, Message.subject, Message.sent_at,
                Message.in_reply_to, Message.normalized_subject,
            ).where(
                one_of(session, Message.normalized_subject, chunk),
                Message.sent_at.between(earliest, latest),
            )
        )
        for row in rows:
            found[row.id] = _Party.of(row)
    return found


def _add_shared_parties(
    session: Session, candidates: dict[int, _Party], mine: dict[int, _Party]
) -> None:
    """Give each candidate the outside addresses and contacts shared with the batch."""
    addresses = set().union(*(p.addresses for p in mine.values()))
    contacts = set().union(*(p.contacts for p in mine.values()))

    for chunk in in_chunks(candidates):
        rows = session.execute(
            select(MessageAddress.message_id, MessageAddress.address_norm).where(
                one_of(session, MessageAddress.message_id, chunk),
                MessageAddress.role.in_(PARTY_ROLES),
            )
        )
        for message_id, address in rows:
            if address in addresses:
                candidates[message_id].addresses.add(address)

        rows = session.execute(
            select(MessageContact.message_id, MessageContact.contact_id).where(
                one_of(session, MessageContact.message_id, chunk)
            )
        )
        for message_id, contact_id in rows:
            if contact_id in contacts:
                candidates[message_id].contacts.add(contact_id)


def _mark_references(session: Session, parties: list[_Party]) -> None:
    """Count as replies the parties that have References but no reply subject."""
    by_id: dict[int, list[_Party]] = defaultdict(list)
    for party in parties:
        if not party.is_reply:
            by_id[party.id].append(party)

    for chunk in in_chunks(by_id):
        rows = session.scalars(
            select(MessageReference.message_id)
            .where(one_of(session, MessageReference.message_id, chunk))
            .distinct()
        )
        for message_id in rows:
            for party in by_id[message_id]:
                party.is_reply = True
