"""The to-assign list of unknown senders, and giving their addresses to contacts.

An address leaves the list when it is assigned to a contact, made into a new
contact, or ignored. Assigning relinks all mail already synced; mail synced later
links through `link_messages` because the address is now a contact's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, desc, distinct, exists, func, or_, select
from sqlalchemy.orm import Session

from mailservice.accounts.models import Account, Folder
from mailservice.config import Settings
from mailservice.contacts.addresses import (
    domain_of,
    is_valid_address,
    normalize_address,
)
from mailservice.contacts.linking import excluded_domains, relink_contact
from mailservice.contacts.models import (
    Contact,
    ContactAddress,
    ContactDomain,
    IgnoredAddress,
    MessageContact,
    Person,
)
from mailservice.errors import ContactError, NotFoundError
from mailservice.messages.models import Message, MessageAddress, MessageLocation

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UnassignedAddress:
    """An address seen on unlinked mail: who it is and how much mail it has."""

    address: str
    name: str | None
    message_count: int
    last_at: datetime | None


def unassigned_addresses(
    session: Session, limit: int | None = None
) -> list[UnassignedAddress]:
    """Senders (and recipients of our sent mail) of unlinked messages, newest first."""
    message_date = func.coalesce(Message.sent_at, Message.internal_date)
    last_at = func.max(message_date)
    statement = (
        select(
            MessageAddress.address_norm,
            func.max(MessageAddress.name),
            func.count(distinct(MessageAddress.message_id)),
            last_at,
        )
        .join(Message, Message.id == MessageAddress.message_id)
        .where(
            _asks_for_a_contact(),
            ~exists().where(MessageContact.message_id == MessageAddress.message_id),
            ~exists().where(ContactAddress.address_norm == MessageAddress.address_norm),
            ~exists().where(IgnoredAddress.address_norm == MessageAddress.address_norm),
            MessageAddress.address_norm.not_in(own_addresses(session)),
        )
        .group_by(MessageAddress.address_norm)
        .order_by(desc(last_at), MessageAddress.address_norm)
        .limit(limit)
    )
    return [UnassignedAddress(*row) for row in session.execute(statement)]


def own_addresses(session: Session) -> set[str]:
    """Our accounts' own addresses, normalised: never a contact's."""
    rows = session.execute(select(Account.email, Account.username))
    return {normalize_address(a) for row in rows for a in row if a and "@" in a}


def assign_address(
    session: Session,
    settings: Settings,
    address: str,
    contact_id: int,
    person_name: str | None = None,
) -> ContactAddress:
    """Give `address` to a contact (as a person's when named) and link all its mail."""
    address = _checked(address)
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFoundError(f"no contact with id {contact_id}")

    norm = normalize_address(address)
    owned = session.scalar(
        select(ContactAddress).filter_by(contact_id=contact_id, address_norm=norm)
    )
    if owned is None:
        owned = ContactAddress(contact=contact, address=address, address_norm=norm)
        session.add(owned)
    if person_name:
        owned.person = Person(contact=contact, name=person_name.strip())

    _unignore(session, norm)
    relink_contact(session, settings, contact_id)
    log.info("address assigned to contact %d", contact_id)
    return owned


def create_contact_from_address(
    session: Session, settings: Settings, address: str, name: str | None = None
) -> Contact:
    """Make a contact of an unknown sender and link all its mail.

    A free-mail sender becomes a person; anyone else a company that also owns
    the domain, so colleagues writing from it link too.
    """
    address = _checked(address)
    norm = normalize_address(address)
    taken = session.scalar(
        select(Contact).join(ContactAddress).where(ContactAddress.address_norm == norm)
    )
    if taken is not None:
        raise ContactError(f"{norm} already belongs to contact {taken.name!r}")

    seen_name = _last_display_name(session, norm)
    domain = domain_of(norm)
    if domain in excluded_domains(session, settings):
        contact = _new_person(name or seen_name or norm, address, norm)
    else:
        contact = _new_company(session, name or domain, address, norm, seen_name)
    session.add(contact)

    session.flush()
    relink_contact(session, settings, contact.id)
    log.info("contact %d (%s) created from an address", contact.id, contact.kind)
    return contact


def ignore_address(session: Session, address: str) -> bool:
    """Leave an address out of the to-assign list; False when it already was."""
    norm = normalize_address(address)
    if session.scalar(select(IgnoredAddress).filter_by(address_norm=norm)):
        return False
    session.add(IgnoredAddress(address_norm=norm))
    session.flush()
    return True


def _asks_for_a_contact():
    # Who wrote to us (From, Reply-To), and whom we wrote to (To of a message in
    # a Sent folder): both are people a contact should exist for.
    in_sent = (
        exists()
        .where(MessageLocation.message_id == MessageAddress.message_id)
        .where(MessageLocation.folder_id == Folder.id, Folder.role == "sent")
    )
    return or_(
        MessageAddress.role.in_(("from", "reply_to")),
        and_(MessageAddress.role == "to", in_sent),
    )


def _checked(address: str) -> str:
    address = address.strip()
    if not is_valid_address(address):
        raise ContactError(f"{address!r} is not a valid e-mail address")
    return address


def _unignore(session: Session, norm: str) -> None:
    ignored = session.scalar(select(IgnoredAddress).filter_by(address_norm=norm))
    if ignored is not None:
        session.delete(ignored)


def _last_display_name(session: Session, norm: str) -> str | None:
    return session.scalar(
        select(MessageAddress.name)
        .join(Message, Message.id == MessageAddress.message_id)
        .where(MessageAddress.address_norm == norm, MessageAddress.name != "")
        .order_by(desc(func.coalesce(Message.sent_at, Message.internal_date)))
        .limit(1)
    )


def _new_person(name: str, address: str, norm: str) -> Contact:
    contact = Contact(kind="person", name=name)
    contact.addresses.append(ContactAddress(address=address, address_norm=norm))
    return contact


def _new_company(
    session: Session, name: str, address: str, norm: str, person_name: str | None
) -> Contact:
    domain = domain_of(norm)
    owner = session.scalar(select(Contact).join(ContactDomain).filter_by(domain=domain))
    if owner is not None:
        raise ContactError(
            f"{domain} belongs to contact {owner.name!r}; assign the address to it"
        )
    contact = Contact(kind="company", name=name)
    person = Person(contact=contact, name=person_name) if person_name else None
    contact.addresses.append(
        ContactAddress(address=address, address_norm=norm, person=person)
    )
    contact.domains.append(ContactDomain(domain=domain))
    return contact
