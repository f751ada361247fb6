"""A recipient list from a CSV file: one row per recipient, with their own fields.

Columns (header names as in `templating.fields`, case and spaces ignored):
`email`, `name`, `contact_id`, `nip` say who; `number`, `issue_date`,
`due_date`, `total`, `amount_due`, `currency`, `link`, `kind` are the
document fields templates use as {{ document.total }} (a `document_` prefix is
allowed); `file` names the recipient's own file(s), separated by `;`.
A row without an e-mail goes to its contact's addresses by the mailing's address
rule. A file with any bad row is refused whole, every bad row named by its line.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum.pl import nip as stdnum_nip

from mailservice.contacts.addresses import is_valid_address, normalize_address
from mailservice.contacts.csvfile import CsvRow, read_csv
from mailservice.contacts.models import Contact, Person
from mailservice.errors import ContactImportError, MailingError, RecipientListError
from mailservice.mailings.models import FROM_CSV, Mailing
from mailservice.mailings.recipients import add_candidates, require_draft
from mailservice.mailings.selection import Candidate, candidates_of, contacts_by_address
from mailservice.templating.fields import FIELDS

log = logging.getLogger(__name__)

WHO = ("email", "name", "contact_id", "nip")
FILE_COLUMNS = ("file", "files", "attachment")
DOCUMENT = FIELDS["document"]
KNOWN = WHO + FILE_COLUMNS + DOCUMENT + tuple(f"document_{name}" for name in DOCUMENT)


@dataclass(frozen=True)
class RowProblem:
    """One bad row of a recipient file."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class CsvOutcome:
    """What an import did: rows read, recipients added, columns left unused."""

    rows: int = 0
    added: int = 0
    unused_columns: list[str] = field(default_factory=list)


def import_recipients_csv(
    session: Session, mailing: Mailing, data: bytes
) -> CsvOutcome:
    """Add a CSV file's recipients to a draft mailing, or refuse it naming bad rows."""
    require_draft(mailing)
    try:
        table = read_csv(data, KNOWN)
    except ContactImportError as exc:
        raise MailingError(f"the recipient file cannot be read: {exc}") from exc
    if not {"email", "contact_id", "nip"} & set(table.columns):
        raise MailingError(
            "the recipient file needs an 'email', 'contact_id' or 'nip' column; "
            f"its header has: {', '.join(table.columns)}"
        )

    candidates, problems = _candidates(session, mailing, table.rows)
    if problems:
        raise RecipientListError(problems)
    outcome = CsvOutcome(rows=len(table.rows))
    outcome.unused_columns = [c for c in table.columns if c not in KNOWN]
    for start in range(0, len(candidates), 500):
        outcome.added += add_candidates(
            session, mailing, candidates[start : start + 500], FROM_CSV
        )
    log.info("mailing=%s csv rows=%d added=%d", mailing.id, outcome.rows, outcome.added)
    return outcome


def _candidates(session, mailing, rows: list[CsvRow]):
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    emails = [normalize_address(r.cells["email"]) for r in rows if r.cells.get("email")]
    known = contacts_by_address(session, emails) if emails else {}
    candidates: list[Candidate] = []
    for row in rows:
        try:
            candidates += _row_candidates(session, mailing, row, known, seen)
        except _BadRow as exc:
            problems.append(RowProblem(row.line, str(exc)))
    _name_unnamed(session, candidates)
    return candidates, problems


def _name_unnamed(session: Session, candidates: list[Candidate]) -> None:
    # A row that gives no name is named as its person, else its contact.
    people = {c.person_id for c in candidates if not c.name and c.person_id}
    contacts = {c.contact_id for c in candidates if not c.name and c.contact_id}
    names = {}
    for model, ids in ((Person, people), (Contact, contacts)):
        for start in range(0, len(ids), 500):
            chunk = list(ids)[start : start + 500]
            query = select(model.id, model.name).where(model.id.in_(chunk))
            names.update({(model, i): n for i, n in session.execute(query).all()})
    for candidate in candidates:
        if not candidate.name:
            candidate.name = names.get((Person, candidate.person_id)) or names.get(
                (Contact, candidate.contact_id)
            )


class _BadRow(Exception):
    pass


def _row_candidates(session, mailing, row: CsvRow, known, seen) -> list[Candidate]:
    cells = row.cells
    if row.extra_cells:
        raise _BadRow(f"{row.extra_cells} cell(s) more than the header has columns")
    fields = json.dumps(_document_fields(cells), ensure_ascii=False)
    files = next((cells[c] for c in FILE_COLUMNS if cells.get(c)), None)
    contact_id = _contact_id(session, cells)
    email = cells.get("email", "")

    if email:
        if not is_valid_address(email):
            raise _BadRow(f"{email!r} is not an e-mail address")
        norm = normalize_address(email)
        if norm in seen:
            raise _BadRow(f"{email} is listed already on line {seen[norm]}")
        seen[norm] = row.line
        owner, person = known.get(norm, (None, None))
        if contact_id is None:
            contact_id = owner
        return [
            Candidate(
                contact_id,
                person if contact_id == owner else None,
                cells.get("name") or None,
                email,
                fields,
                files,
            )
        ]
    if contact_id is None:
        raise _BadRow("no email, contact_id or nip to say who gets the message")
    found = candidates_of(
        session, [contact_id], mailing.address_rule, mailing.person_position
    )
    for candidate in found:
        candidate.fields, candidate.files_key = fields, files
    return found


def _contact_id(session, cells) -> int | None:
    if cells.get("contact_id"):
        text = cells["contact_id"]
        if not text.isdigit() or session.get(Contact, int(text)) is None:
            raise _BadRow(f"no contact with id {text!r}")
        return int(text)
    if cells.get("nip"):
        digits = stdnum_nip.compact(cells["nip"])
        found = session.scalar(select(Contact.id).where(Contact.nip == digits).limit(1))
        if found is None:
            raise _BadRow(f"no contact with NIP {cells['nip']!r}")
        return found
    return None


def _document_fields(cells: dict[str, str]) -> dict[str, str]:
    values = {}
    for name in DOCUMENT:
        value = cells.get(name) or cells.get(f"document_{name}")
        if value:
            values[name] = value
    return values
