"""Which contacts a mailing goes to, and which of their addresses get it.

A selection is a small JSON object on the mailing; its parts add up:
`{"group": "subscribers", "owner": "anna@firma.pl", "all": true,
"contacts": [3, 7], "failed_of": 12, "open_invoices": true}`.
Contacts come out in batches (memory stays flat for any number of them), each
with one candidate per address the mailing's address rule picks, or one
candidate without an address when it picks none: that one is listed as a
problem before sending, never dropped.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Select, func, select, union
from sqlalchemy.orm import Session

from mailservice.contacts.models import Contact, ContactAddress, Person
from mailservice.errors import MailingError, NotFoundError
from mailservice.mailings.models import (
    ADDRESS_RULES,
    ContactGroup,
    ContactGroupMember,
    Mailing,
)

log = logging.getLogger(__name__)

BATCH = 500
SELECTION_KEYS = ("group", "owner", "all", "contacts", "failed_of", "open_invoices")


@dataclass
class Candidate:
    """One address of one contact (or a bare address) that the mailing may go to."""

    contact_id: int | None
    person_id: int | None
    name: str | None
    address: str | None
    fields: str | None = None  # JSON merge fields carried over
    files_key: str | None = None


def parse_selection(text: str | dict | None) -> dict:
    """The selection as a dict, checked for unknown keys and wrong types."""
    selection = json.loads(text) if isinstance(text, str) else dict(text or {})
    unknown = set(selection) - set(SELECTION_KEYS)
    if unknown:
        raise MailingError(
            f"unknown recipient filter {', '.join(sorted(unknown))} "
            f"(known: {', '.join(SELECTION_KEYS)})"
        )
    if selection.get("open_invoices"):
        # TODO: "all contacts with open invoices" needs the receivables model
        # (invoices, payments, open balance per contact), which does not exist
        # yet; until it lands this filter is refused rather than guessed.
        raise MailingError(
            "the filter 'contacts with open invoices' is not available yet: it needs "
            "the receivables (invoices and payments) part, which is not built"
        )
    if "contacts" in selection and not all(
        isinstance(item, int) for item in selection["contacts"]
    ):
        raise MailingError("the 'contacts' filter must be a list of contact ids")
    return selection


def group_id(session: Session, name_or_id: str | int) -> int:
    """The id of a contact group named or numbered so."""
    query = select(ContactGroup.id)
    if isinstance(name_or_id, int) or str(name_or_id).isdigit():
        query = query.where(ContactGroup.id == int(name_or_id))
    else:
        query = query.where(ContactGroup.name == str(name_or_id))
    found = session.scalar(query)
    if found is None:
        raise NotFoundError(f"no contact group {name_or_id!r}")
    return found


def contact_query(session: Session, selection: dict) -> Select | None:
    """The ids of the contacts a selection names (failed_of aside), or None."""
    parts = []
    if selection.get("all"):
        parts.append(select(Contact.id))
    if selection.get("group") not in (None, ""):
        gid = group_id(session, selection["group"])
        parts.append(
            select(ContactGroupMember.contact_id).where(
                ContactGroupMember.group_id == gid
            )
        )
    if selection.get("owner"):
        owner = str(selection["owner"]).strip().lower()
        parts.append(select(Contact.id).where(func.lower(Contact.owner) == owner))
    if selection.get("contacts"):
        parts.append(select(Contact.id).where(Contact.id.in_(selection["contacts"])))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else union(*parts)


def contact_batches(session: Session, selection: dict) -> Iterator[list[int]]:
    """Selected contact ids, in order, a batch at a time."""
    query = contact_query(session, selection)
    if query is None:
        return
    ids = query.subquery()
    ordered = select(ids.c[0]).order_by(ids.c[0])
    last = 0
    while True:
        batch = list(session.scalars(ordered.where(ids.c[0] > last).limit(BATCH)))
        if not batch:
            return
        yield batch
        last = batch[-1]


def candidates_of(
    session: Session, contact_ids: list[int], rule: str, position: str | None = None
) -> list[Candidate]:
    """The candidates of some contacts under an address rule, contact by contact."""
    if rule not in ADDRESS_RULES:
        raise MailingError(f"address rule must be one of {', '.join(ADDRESS_RULES)}")
    names = dict(
        session.execute(
            select(Contact.id, Contact.name).where(Contact.id.in_(contact_ids))
        ).all()
    )
    rows = session.execute(
        select(
            ContactAddress.contact_id,
            ContactAddress.person_id,
            ContactAddress.address,
            Person.name,
            Person.position,
        )
        .outerjoin(Person, Person.id == ContactAddress.person_id)
        .where(ContactAddress.contact_id.in_(contact_ids))
        .order_by(ContactAddress.contact_id, ContactAddress.id)
    ).all()
    by_contact: dict[int, list] = {}
    for row in rows:
        by_contact.setdefault(row.contact_id, []).append(row)

    found = []
    for contact_id in contact_ids:
        if contact_id not in names:
            continue  # deleted meanwhile
        chosen = _apply_rule(by_contact.get(contact_id, []), rule, position)
        if not chosen:
            found.append(Candidate(contact_id, None, names[contact_id], None))
        for row in chosen:
            found.append(
                Candidate(
                    contact_id,
                    row.person_id,
                    row.name or names[contact_id],
                    row.address,
                )
            )
    return found


def _apply_rule(rows: list, rule: str, position: str | None) -> list:
    if rule == "contact":
        return [row for row in rows if row.person_id is None]
    if rule == "people":
        people = [row for row in rows if row.person_id is not None]
        if position:
            wanted = position.lower()
            people = [row for row in people if wanted in (row.position or "").lower()]
        return people
    if rule == "first":
        general = [row for row in rows if row.person_id is None]
        return (general or rows)[:1]
    return rows


def selection_candidates(
    session: Session, mailing: Mailing
) -> Iterator[list[Candidate]]:
    """Every candidate of a mailing's filter, a batch at a time."""
    selection = parse_selection(mailing.selection)
    for batch in contact_batches(session, selection):
        yield candidates_of(
            session, batch, mailing.address_rule, mailing.person_position
        )
    if selection.get("failed_of"):
        yield from failed_candidates(session, int(selection["failed_of"]))


def failed_candidates(session: Session, mailing_id: int) -> Iterator[list[Candidate]]:
    """The recipients a previous mailing did not reach, with their fields and files."""
    from mailservice.mailings.report import failed_recipients

    if session.get(Mailing, mailing_id) is None:
        raise NotFoundError(f"no mailing {mailing_id}")
    batch: list[Candidate] = []
    for recipient in failed_recipients(session, mailing_id):
        batch.append(
            Candidate(
                recipient.contact_id,
                recipient.person_id,
                recipient.name,
                recipient.address,
                recipient.fields,
                recipient.files_key,
            )
        )
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def contacts_by_address(session: Session, norms: list[str]) -> dict[str, tuple]:
    """(contact id, person id) of the contacts owning some normalised addresses."""
    rows = session.execute(
        select(
            ContactAddress.address_norm,
            ContactAddress.contact_id,
            ContactAddress.person_id,
        )
        .where(ContactAddress.address_norm.in_(norms))
        .order_by(ContactAddress.id)
    ).all()
    found: dict[str, tuple] = {}
    for norm, contact_id, person_id in rows:
        found.setdefault(norm, (contact_id, person_id))
    return found
