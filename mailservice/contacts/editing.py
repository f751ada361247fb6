"""Changing a contact's addresses and domains; each change relinks its mail.

Adding an address is `assigning.assign_address`. What a contact owned before a
change is relinked too, so links that no longer hold are removed.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailservice.config import Settings
from mailservice.contacts.addresses import normalize_address, normalize_domain
from mailservice.contacts.linking import relink_contact
from mailservice.contacts.models import Contact, ContactAddress, ContactDomain
from mailservice.contacts.validation import parse_domains
from mailservice.errors import ContactError, NotFoundError

log = logging.getLogger(__name__)


def remove_address(
    session: Session, settings: Settings, contact_id: int, address: str
) -> None:
    """Take an address away from a contact and unlink the mail it brought."""
    norm = normalize_address(address)
    owned = session.scalar(
        select(ContactAddress).filter_by(contact_id=contact_id, address_norm=norm)
    )
    if owned is None:
        raise NotFoundError(f"contact {contact_id} has no address {norm}")

    session.delete(owned)
    relink_contact(session, settings, contact_id)
    log.info("address removed from contact %d", contact_id)


def add_domain(
    session: Session, settings: Settings, contact_id: int, domain: str
) -> ContactDomain:
    """Let mail from anyone at `domain` link to the contact, then relink."""
    contact = _contact(session, contact_id)
    free = {normalize_domain(d) for d in settings.free_mail_domains}
    domains = parse_domains(domain, free)
    if len(domains) != 1:
        raise ContactError(f"{domain!r} is not one mail domain")

    domain = domains[0]
    owner = session.scalar(select(ContactDomain).filter_by(domain=domain))
    if owner is not None and owner.contact_id != contact_id:
        raise ContactError(f"{domain} already belongs to contact {owner.contact_id}")

    owned = owner or ContactDomain(contact=contact, domain=domain)
    session.add(owned)
    relink_contact(session, settings, contact_id)
    log.info("domain added to contact %d", contact_id)
    return owned


def remove_domain(
    session: Session, settings: Settings, contact_id: int, domain: str
) -> None:
    """Stop linking mail to the contact by `domain`, then relink."""
    owned = session.scalar(
        select(ContactDomain).filter_by(
            contact_id=contact_id, domain=normalize_domain(domain)
        )
    )
    if owned is None:
        raise NotFoundError(f"contact {contact_id} has no domain {domain}")

    session.delete(owned)
    relink_contact(session, settings, contact_id)
    log.info("domain removed from contact %d", contact_id)


def _contact(session: Session, contact_id: int) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFoundError(f"no contact with id {contact_id}")
    return contact
