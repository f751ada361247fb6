"""Putting a draft mailing together in one step: its spec, then its recipients
(filter, CSV, by hand) and files, in one transaction the caller commits.

The CLI and the web form both end here; a spec file and options combine, the
options winning.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy.orm import Session

from mailservice.config import Settings
from mailservice.errors import MailingError
from mailservice.mailings.csvlist import import_recipients_csv
from mailservice.mailings.files import add_folder
from mailservice.mailings.models import Mailing
from mailservice.mailings.recipients import (
    add_by_hand,
    count_recipients,
    refresh_recipients,
)
from mailservice.mailings.spec import create_mailing, read_spec_file, spec_from_dict

log = logging.getLogger(__name__)

# Command-line option -> spec key.
OPTION_KEYS = {
    "name": "name",
    "account": "account",
    "kind": "kind",
    "subject": "subject",
    "document_name": "document_filename",
    "addresses": "addresses",
    "position": "person_position",
    "files_match": "files_match",
    "files_pattern": "files_pattern",
    "files_required": "files_required",
    "signature": "signature",
}
SELECTION_OPTIONS = {
    "group": "group",
    "owner": "owner",
    "all_contacts": "all",
    "failed_of": "failed_of",
    "open_invoices": "open_invoices",
}


def build_mailing(
    session: Session,
    settings: Settings,
    spec_file: Path | None,
    options: dict,
    author_user_id: int | None = None,
) -> tuple[Mailing, list[str]]:
    """A new draft from a spec file and/or options; notes for the person."""
    data, extras = {}, {}
    if spec_file is not None:
        spec, extras = read_spec_file(spec_file)
        data = dict(vars(spec))
    _merge_options(data, extras, options)
    mailing = create_mailing(session, settings, spec_from_dict(data), author_user_id)
    notes = fill_recipients(session, settings, mailing, extras)
    return mailing, notes


def _merge_options(data: dict, extras: dict, options: dict) -> None:
    for option, key in OPTION_KEYS.items():
        if options.get(option) is not None:
            data[key] = options[option]
    for option, key in (("body_file", "body"), ("document_file", "document")):
        if options.get(option):
            data[key] = Path(options[option]).read_text(encoding="utf-8")
    selection = dict(data.get("selection") or {})
    for option, key in SELECTION_OPTIONS.items():
        if options.get(option):
            selection[key] = options[option]
    if options.get("contacts"):
        selection["contacts"] = list(options["contacts"])
    data["selection"] = selection
    if options.get("csv_file"):
        extras["recipients_csv"] = Path(options["csv_file"])
    if options.get("files_dir"):
        extras["files_dir"] = Path(options["files_dir"])
    if options.get("addresses_typed"):
        extras["to"] = list(extras.get("to", [])) + list(options["addresses_typed"])


def fill_recipients(
    session: Session, settings: Settings, mailing: Mailing, extras: dict
) -> list[str]:
    """Add the filter's, the CSV file's and the typed recipients, and the files."""
    notes = []
    if extras.get("recipients_csv"):
        outcome = import_recipients_csv(
            session, mailing, Path(extras["recipients_csv"]).read_bytes()
        )
        notes.append(f"{outcome.added} recipients from the CSV file")
        if outcome.unused_columns:
            notes.append(
                "columns not used as fields: " + ", ".join(outcome.unused_columns)
            )
    if extras.get("to") or extras.get("contacts"):
        added = add_by_hand(
            session, mailing, extras.get("to", []), extras.get("contacts", [])
        )
        notes.append(f"{added} recipients typed by hand")
    added = refresh_recipients(session, mailing)
    if added:
        notes.append(f"{added} recipients from the filter")
    if extras.get("files_dir"):
        count = add_folder(session, settings, mailing, Path(extras["files_dir"]))
        notes.append(f"{count} files taken from {extras['files_dir']}")
    if not count_recipients(session, mailing.id):
        raise MailingError(
            "the mailing has no recipients: give a filter, a CSV file or addresses"
        )
    return notes
