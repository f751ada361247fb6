"""Linking messages to contacts by address, then by domain.

The rule, applied to one message at a time:

1. The message links to every contact owning an address (`ContactAddress`) that
   appears in its From, Sender, Reply-To, To or Cc, compared in the normal form of
   `contacts.addresses` (case-insensitive, +tags dropped). Bcc is left out: it
   is only ever on our own Sent copies, and a blind copy is mostly a colleague or
   an archive, not the party the mail is about.
2. Only when step 1 finds nothing does the message link by domain: to every
   contact owning (`ContactDomain`) the domain of one of those addresses, except
   free-mail domains (`Settings.free_mail_domains`) and the domains of our own
   accounts, which would tie every message to one contact.

So an address link always wins: a message from a known person at one company,
copied to someone unknown at another, belongs to the first company only. Both
functions below recompute the automatic links ("address", "domain") of the
messages they touch: missing links are added, links that no longer hold are
removed, and links made any other way are left alone. Running them twice
changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator

from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from mailservice.accounts.models import Account
from mailservice.config import Settings
from mailservice.contacts.addresses import domain_of, normalize_domain
from mailservice.contacts.models import (
    LINK_ADDRESS,
    LINK_DOMAIN,
    ContactAddress,
    ContactDomain,
    MessageContact,
)
from mailservice.messages.models import MessageAddress

log = logging.getLogger(__name__)

LINK_ROLES = ("from", "sender", "reply_to", "to", "cc")
AUTOMATIC_LINKS = (LINK_ADDRESS, LINK_DOMAIN)
# Bound parameters per IN list; stays far below SQLite's and PostgreSQL's limits.
CHUNK = 500

Link = tuple[int, int]  # (message id, contact id)

_same_address = ContactAddress.address_norm == MessageAddress.address_norm
_same_domain = ContactDomain.domain == MessageAddress.domain


def link_messages(session: Session, settings: Settings, message_ids: list[int]) -> None:
    """Link each message to every contact whose address or domain appears in it."""
    ids = sorted(set(message_ids))
    if not ids:
        return
    session.flush()
    excluded = excluded_domains(session, settings)

    added = removed = 0
    for chunk in chunked(ids):
        wanted = _wanted_links(session, chunk, excluded)
        chunk_added, chunk_removed = _apply_links(session, chunk, wanted)
        added += chunk_added
        removed += chunk_removed
    log.debug(
        "linked %d messages: %d links added, %d removed", len(ids), added, removed
    )


def relink_contact(session: Session, settings: Settings, contact_id: int) -> None:
    """Recompute the links of every message that carries the contact's addresses."""
    relink_contacts(session, settings, [contact_id])


def relink_contacts(
    session: Session, settings: Settings, contact_ids: Iterable[int]
) -> int:
    """Recompute links after contacts' addresses or domains changed.

    Returns how many messages were relinked.
    """
    session.flush()
    contacts = sorted(set(contact_ids))
    message_ids: set[int] = set()
    for chunk in chunked(contacts):
        message_ids.update(_messages_touching(session, chunk))

    link_messages(session, settings, list(message_ids))
    log.info("relinked %d messages of %d contacts", len(message_ids), len(contacts))
    return len(message_ids)


def excluded_domains(session: Session, settings: Settings) -> set[str]:
    """Domains that never link by domain: free-mail ones and our own accounts'."""
    free = {normalize_domain(domain) for domain in settings.free_mail_domains}
    own = {
        domain_of(address)
        for row in session.execute(select(Account.email, Account.username))
        for address in row
        if address and "@" in address
    }
    return free | own


def chunked(ids: list[int], size: int = CHUNK) -> Iterator[list[int]]:
    """Consecutive slices of `ids` small enough for one IN list."""
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _wanted_links(
    session: Session, message_ids: list[int], excluded: set[str]
) -> dict[Link, str]:
    in_batch = (
        MessageAddress.message_id.in_(message_ids),
        MessageAddress.role.in_(LINK_ROLES),
    )
    by_address = session.execute(
        select(MessageAddress.message_id, ContactAddress.contact_id)
        .join(ContactAddress, _same_address)
        .where(*in_batch)
    ).all()
    wanted = {link: LINK_ADDRESS for link in map(tuple, by_address)}

    address_linked = {message_id for message_id, _ in by_address}
    by_domain = session.execute(
        select(
            MessageAddress.message_id, ContactDomain.contact_id, ContactDomain.domain
        )
        .join(ContactDomain, _same_domain)
        .where(*in_batch)
    ).all()
    for message_id, contact_id, domain in by_domain:
        if message_id not in address_linked and domain not in excluded:
            wanted[(message_id, contact_id)] = LINK_DOMAIN
    return wanted


def _apply_links(
    session: Session, message_ids: list[int], wanted: dict[Link, str]
) -> tuple[int, int]:
    current = {
        (row.message_id, row.contact_id): (row.id, row.via)
        for row in session.execute(
            select(
                MessageContact.id,
                MessageContact.message_id,
                MessageContact.contact_id,
                MessageContact.via,
            ).where(MessageContact.message_id.in_(message_ids))
        )
    }
    stale = [
        link_id
        for key, (link_id, via) in current.items()
        if via in AUTOMATIC_LINKS and key not in wanted
    ]
    _delete_links(session, stale)

    changed: dict[str, list[int]] = {via: [] for via in AUTOMATIC_LINKS}
    for key, (link_id, old_via) in current.items():
        new_via = wanted.get(key)
        if old_via in AUTOMATIC_LINKS and new_via and new_via != old_via:
            changed[new_via].append(link_id)
    for via, link_ids in changed.items():
        _set_via(session, link_ids, via)

    new = [
        {"message_id": message_id, "contact_id": contact_id, "via": via}
        for (message_id, contact_id), via in wanted.items()
        if (message_id, contact_id) not in current
    ]
    _insert_links(session, new)
    return len(new), len(stale)


def _messages_touching(session: Session, contact_ids: list[int]) -> set[int]:
    linked = select(MessageContact.message_id).where(
        MessageContact.contact_id.in_(contact_ids)
    )
    by_address = (
        select(MessageAddress.message_id)
        .join(ContactAddress, _same_address)
        .where(ContactAddress.contact_id.in_(contact_ids))
    )
    by_domain = (
        select(MessageAddress.message_id)
        .join(ContactDomain, _same_domain)
        .where(ContactDomain.contact_id.in_(contact_ids))
    )
    return set(session.scalars(linked.union(by_address, by_domain)))


def _delete_links(session: Session, link_ids: list[int]) -> None:
    if link_ids:
        session.execute(delete(MessageContact).where(MessageContact.id.in_(link_ids)))


def _set_via(session: Session, link_ids: list[int], via: str) -> None:
    if link_ids:
        session.execute(
            update(MessageContact)
            .where(MessageContact.id.in_(link_ids))
            .values(via=via)
        )


def _insert_links(session: Session, rows: list[dict]) -> None:
    if not rows:
        return
    # Two sync workers may link the same message at once (one message, two
    # accounts); the unique (message, contact) pair makes the second a no-op.
    table = MessageContact.__table__
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        statement = postgresql.insert(table).on_conflict_do_nothing()
    elif dialect == "sqlite":
        statement = sqlite.insert(table).on_conflict_do_nothing()
    else:
        statement = insert(table)
    session.execute(statement, rows)
