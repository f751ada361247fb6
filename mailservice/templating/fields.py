"""The fields a template may use, sample values for previews, and real values.

Templates see four objects: the contact, the person written to, the sender
(the staff member and the company account) and, later, a document (an invoice,
a reminder, an offer). Each is a plain dict so the sandbox exposes nothing else.
"""

from __future__ import annotations

from typing import Any

from mailservice.accounts.models import Account
from mailservice.contacts.models import Contact, Person

FIELDS: dict[str, tuple[str, ...]] = {
    "contact": ("name", "nip", "street", "postal_code", "city", "country", "email"),
    "person": ("name", "first_name", "last_name", "position", "phone", "email"),
    "sender": ("name", "email", "phone", "position", "company", "account"),
    "document": (
        "kind",
        "number",
        "issue_date",
        "due_date",
        "total",
        "amount_due",
        "currency",
        "link",
    ),
}

SAMPLE: dict[str, dict[str, Any]] = {
    "contact": {
        "name": "Przykładowa Firma Sp. z o.o.",
        "nip": "5260250274",
        "street": "ul. Długa 1",
        "postal_code": "00-950",
        "city": "Warszawa",
        "country": "PL",
        "email": "biuro@przyklad.pl",
    },
    "person": {
        "name": "Anna Kowalska",
        "first_name": "Anna",
        "last_name": "Kowalska",
        "position": "Główna księgowa",
        "phone": "+48 22 123 45 67",
        "email": "anna.kowalska@przyklad.pl",
    },
    "sender": {
        "name": "Jan Nowak",
        "email": "jan.nowak@firma.pl",
        "phone": "+48 600 100 200",
        "position": "Opiekun klienta",
        "company": "Firma S.A.",
        "account": "biuro",
    },
    "document": {
        "kind": "invoice",
        "number": "FS/2026/11/042",
        "issue_date": "2026-11-30",
        "due_date": "2026-12-14",
        "total": "1 230,00",
        "amount_due": "1 230,00",
        "currency": "PLN",
        "link": "https://example.invalid/d/42",
    },
}


def empty_context() -> dict[str, dict[str, Any]]:
    """Every field present and empty, so a template renders without a contact."""
    return {name: {attr: "" for attr in attrs} for name, attrs in FIELDS.items()}


def contact_fields(contact: Contact | None) -> dict[str, Any]:
    """The template fields of a contact."""
    values = dict.fromkeys(FIELDS["contact"], "")
    if contact is None:
        return values
    for attr in ("name", "nip", "street", "postal_code", "city", "country"):
        values[attr] = getattr(contact, attr) or ""
    values["email"] = contact.addresses[0].address if contact.addresses else ""
    return values


def person_fields(person: Person | None, email: str = "") -> dict[str, Any]:
    """The template fields of a person; the first and last name split on a space."""
    values = dict.fromkeys(FIELDS["person"], "")
    values["email"] = email
    if person is None:
        return values
    first, _, last = person.name.partition(" ")
    values.update(
        name=person.name,
        first_name=first,
        last_name=last,
        position=person.position or "",
        phone=person.phone or "",
    )
    if person.addresses and not email:
        values["email"] = person.addresses[0].address
    return values


def sender_fields(
    account: Account,
    user_name: str | None,
    user_email: str | None,
    company: str = "",
    **extra: str,
) -> dict[str, Any]:
    """The template fields of the sender: the staff member and the account."""
    values = dict.fromkeys(FIELDS["sender"], "")
    values.update(
        name=user_name or account.name,
        email=user_email or account.email or "",
        company=company,
        account=account.name,
    )
    values.update({key: value for key, value in extra.items() if key in values})
    return values


def build_context(
    contact: dict | None = None,
    person: dict | None = None,
    sender: dict | None = None,
    document: dict | None = None,
) -> dict[str, dict[str, Any]]:
    """A full template context; missing objects are present with empty fields."""
    context = empty_context()
    for name, given in (
        ("contact", contact),
        ("person", person),
        ("sender", sender),
        ("document", document),
    ):
        if given:
            context[name].update(given)
    return context
