"""Finding the stored contact an imported row describes: by NIP, else by name."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailservice.contacts.models import Contact, ContactDomain
from mailservice.errors import ContactError


def _name_key(name: str) -> str:
    return " ".join(name.split()).casefold()


class ContactIndex:
    """Contacts by NIP, name and domain, kept current while a file is imported."""

    def __init__(self, session: Session) -> None:
        contacts = session.scalars(select(Contact)).all()
        by_id = {contact.id: contact for contact in contacts}
        self.by_nip: dict[str, Contact] = {}
        self.by_name: dict[str, list[Contact]] = defaultdict(list)
        self.domain_owner = {
            domain: by_id[contact_id]
            for domain, contact_id in session.execute(
                select(ContactDomain.domain, ContactDomain.contact_id)
            )
        }
        for contact in contacts:
            self.remember(contact, [])

    def match(self, nip: str | None, name: str) -> Contact | None:
        """The contact a row describes: same NIP, else same name without NIP clash."""
        if nip and nip in self.by_nip:
            return self.by_nip[nip]
        for contact in self.by_name.get(_name_key(name), []):
            if nip is None or contact.nip is None:
                return contact
        return None

    def check_domains(self, domains: list[str], contact: Contact | None) -> None:
        """Refuse domains another contact owns: a domain links to one contact."""
        for domain in domains:
            owner = self.domain_owner.get(domain)
            if owner is not None and owner is not contact:
                raise ContactError(
                    f"domains: {domain} already belongs to contact {owner.name!r}"
                )

    def remember(self, contact: Contact, domains: list[str]) -> None:
        """Index a contact just created or changed, with the domains it gained."""
        if contact.nip:
            self.by_nip[contact.nip] = contact
        same_name = self.by_name[_name_key(contact.name)]
        if contact not in same_name:
            same_name.append(contact)
        for domain in domains:
            self.domain_owner[domain] = contact
