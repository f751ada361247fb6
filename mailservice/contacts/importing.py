"""Importing contacts from a CSV file: good rows are saved, bad rows reported.

The file (sample: config/contacts-sample.csv)
- UTF-8, with or without a byte-order mark; Windows-1250 (old Polish Excel) is
  accepted too. Delimiter ',' or ';' or tab, found from the header.
- Line 1 is a header naming the columns, in any order and letter case; only
  `name` is required. Unknown columns are ignored with a warning.
- Columns:
    name             contact name (required)
    kind             company (default) or person; "firma" / "osoba" also do
    nip              Polish NIP, with or without "PL", dashes or spaces; the
                     checksum is verified and the 10 digits stored
    street, postal_code, city
                     postal_code is NN-NNN when the country is PL
    country          two-letter ISO code, PL when empty
    owner            e-mail address of the staff member who looks after it
    emails           the contact's addresses, separated by ',', ';' or spaces
    domains          mail domains it owns (firma.pl); free-mail ones refused
    person, person_email, person_position, person_phone
                     one person at the contact and their address(es)
    notes            free text
- A row matches an existing contact by NIP, else by name (case-insensitive)
  when at most one side has a NIP; the match is updated, never duplicated.
  Filled cells overwrite, empty cells keep what is stored, addresses and
  domains are only ever added. More people of one contact go on further rows
  repeating its name or NIP.

Each bad row is reported with its line number (the header is line 1) and every
reason found in it; nothing of it is saved. Mail is relinked at the end.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from mailservice.config import Settings
from mailservice.contacts.addresses import (
    is_valid_address,
    normalize_address,
    normalize_domain,
)
from mailservice.contacts.csvfile import CsvRow, read_csv
from mailservice.contacts.linking import relink_contacts
from mailservice.contacts.matching import ContactIndex
from mailservice.contacts.models import Contact, ContactAddress, ContactDomain, Person
from mailservice.contacts.validation import (
    parse_addresses,
    parse_domains,
    parse_nip,
    parse_postal_code,
)
from mailservice.errors import ContactError, ContactImportError, MailserviceError

log = logging.getLogger(__name__)

COLUMNS = (
    "name kind nip street postal_code city country owner emails domains "
    "person person_email person_position person_phone notes"
).split()
KINDS = {
    "company": "company",
    "firma": "company",
    "person": "person",
    "osoba": "person",
}
# Plain fields: a filled cell overwrites the stored value, an empty one keeps it.
FIELDS = "name kind nip street postal_code city country owner notes".split()
# Free text, taken as written.
TEXT_COLUMNS = "street city notes person person_position person_phone".split()


@dataclass
class ImportReport:
    """What an import did: contacts created and updated, bad rows and why."""

    imported: int = 0
    updated: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    encoding: str = "utf-8"


@dataclass
class ContactRow:
    """One row, checked: every value in the form it is stored in."""

    name: str
    kind: str | None = None
    nip: str | None = None
    street: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str | None = None
    owner: str | None = None
    notes: str | None = None
    emails: list[str] = field(default_factory=list)
    domains: list[str] = field(default_factory=list)
    person: str | None = None
    person_emails: list[str] = field(default_factory=list)
    person_position: str | None = None
    person_phone: str | None = None


def import_contacts(session: Session, settings: Settings, path: Path) -> ImportReport:
    """Import the contacts CSV at `path`; raises ContactImportError if unreadable."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ContactImportError(f"cannot read {path}: {exc.strerror or exc}") from exc

    report = import_contacts_data(session, settings, data)
    log.info(
        "contacts imported from %s: %d new, %d updated, %d bad rows",
        path, report.imported, report.updated, len(report.errors),
    )
    return report


def import_contacts_data(
    session: Session, settings: Settings, data: bytes
) -> ImportReport:
    """Import contacts from the bytes of a CSV file (see the module docstring)."""
    table = read_csv(data, tuple(COLUMNS))
    if "name" not in table.columns:
        raise ContactImportError(
            "line 1 must be a header with a 'name' column; found: "
            + ", ".join(table.columns)
        )
    report = ImportReport(encoding=table.encoding)
    report.warnings = [
        f"column {column!r} is not known and was ignored"
        for column in table.columns
        if column not in COLUMNS
    ]

    index = ContactIndex(session)
    free = {normalize_domain(domain) for domain in settings.free_mail_domains}
    created: set[Contact] = set()
    touched: set[Contact] = set()
    for row in table.rows:
        try:
            contact, is_new = _import_row(session, index, row, free)
        except MailserviceError as exc:
            report.errors.append((row.line, str(exc)))
            continue
        touched.add(contact)
        if is_new:
            created.add(contact)

    session.flush()
    relink_contacts(session, settings, [contact.id for contact in touched])
    report.imported, report.updated = len(created), len(touched - created)
    return report


def parse_row(row: CsvRow, free_mail_domains: set[str]) -> ContactRow:
    """Check every cell of a row; ContactError lists all that is wrong with it."""
    cells, problems = row.cells, []

    def check(column: str, parse, *args):
        try:
            return parse(cells[column], *args) if cells.get(column) else None
        except MailserviceError as exc:
            problems.append(str(exc) if column == "nip" else f"{column}: {exc}")
            return None

    parsed = ContactRow(name=" ".join(cells.get("name", "").split()))
    if not parsed.name:
        problems.append("name is missing")
    parsed.kind = check("kind", _parse_kind)
    parsed.nip = check("nip", parse_nip)
    parsed.country = check("country", _parse_country)
    parsed.postal_code = check("postal_code", parse_postal_code, parsed.country or "PL")
    parsed.owner = check("owner", _parse_owner)
    parsed.emails = check("emails", parse_addresses) or []
    parsed.domains = check("domains", parse_domains, free_mail_domains) or []
    parsed.person_emails = check("person_email", parse_addresses) or []
    for column in TEXT_COLUMNS:
        setattr(parsed, column, cells.get(column) or None)

    if parsed.person_emails and not parsed.person:
        problems.append("person_email is given but person (their name) is empty")
    if row.extra_cells:
        problems.append(
            f"{row.extra_cells} more cell(s) than the header has columns"
            " (a delimiter inside an unquoted value?)"
        )
    if problems:
        raise ContactError("; ".join(problems))
    return parsed


def _import_row(
    session: Session, index: ContactIndex, row: CsvRow, free: set[str]
) -> tuple[Contact, bool]:
    parsed = parse_row(row, free)
    contact = index.match(parsed.nip, parsed.name)
    index.check_domains(parsed.domains, contact)

    is_new = contact is None
    if is_new:
        contact = Contact(name=parsed.name, kind="company", country="PL")
        session.add(contact)
    _apply(contact, parsed)
    index.remember(contact, parsed.domains)
    return contact, is_new


def _apply(contact: Contact, parsed: ContactRow) -> None:
    for name in FIELDS:
        value = getattr(parsed, name)
        if value:
            setattr(contact, name, value)

    for address in parsed.emails:
        _add_address(contact, address, None)
    owned = {domain.domain for domain in contact.domains}
    for domain in parsed.domains:
        if domain not in owned:
            contact.domains.append(ContactDomain(domain=domain))

    if parsed.person:
        person = _person(contact, parsed)
        for address in parsed.person_emails:
            _add_address(contact, address, person)


def _person(contact: Contact, parsed: ContactRow) -> Person:
    key = parsed.person.casefold()
    person = next((p for p in contact.people if p.name.casefold() == key), None)
    if person is None:
        # Appended on the contact's side: SQLAlchemy 2 cascades into the
        # session only along that direction, and a person with no address
        # would otherwise never be saved.
        person = Person(name=parsed.person)
        contact.people.append(person)
    person.position = parsed.person_position or person.position
    person.phone = parsed.person_phone or person.phone
    return person


def _add_address(contact: Contact, address: str, person: Person | None) -> None:
    norm = normalize_address(address)
    owned = next((a for a in contact.addresses if a.address_norm == norm), None)
    if owned is None:
        contact.addresses.append(
            ContactAddress(address=address, address_norm=norm, person=person)
        )
    elif person is not None and owned.person is None:
        owned.person = person


def _parse_kind(value: str) -> str:
    kind = KINDS.get(value.strip().lower())
    if kind is None:
        raise ContactError(f"{value!r} must be company or person")
    return kind


def _parse_country(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z]{2}", value.strip()):
        raise ContactError(f"{value!r} is not a two-letter country code (PL, DE)")
    return value.strip().upper()


def _parse_owner(value: str) -> str:
    if not is_valid_address(value):
        raise ContactError(f"{value!r} is not a valid e-mail address")
    return value.strip().lower()
