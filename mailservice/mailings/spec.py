"""Making and editing a mailing from a spec: what the CLI file and the web form say.

A spec file (TOML or JSON) holds the same keys as `MailingSpec`; file paths in
it (`body_file`, `document_file`, `recipients_csv`, `files_dir`) are read
relative to the file. Templates are checked before anything is saved.
"""

from __future__ import annotations

import json
import logging
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path

from sqlalchemy.orm import Session

from mailservice.accounts.service import get_account
from mailservice.config import Settings
from mailservice.errors import MailingError, TemplateValidationError
from mailservice.mailings.files import check_files_rule
from mailservice.mailings.models import ADDRESS_RULES, KINDS, MARKETING, Mailing
from mailservice.mailings.problems import template_problems
from mailservice.mailings.recipients import require_draft
from mailservice.mailings.selection import parse_selection
from mailservice.mailings.unsubscribe import unsubscribe_url

log = logging.getLogger(__name__)


@dataclass
class MailingSpec:
    """Everything that defines a mailing except its recipient rows."""

    name: str
    account: str
    subject: str
    body: str
    kind: str = "transactional"
    locale: str = "pl"
    signature: bool = True
    document: str | None = None
    document_filename: str = "dokument.pdf"
    addresses: str = "all"
    person_position: str | None = None
    selection: dict = field(default_factory=dict)
    files_match: str = "none"
    files_pattern: str | None = None
    files_required: bool = False


FILE_KEYS = {"body_file": "body", "document_file": "document"}
EXTRA_KEYS = ("recipients_csv", "files_dir", "to", "contacts")


def read_spec_file(path: Path) -> tuple[MailingSpec, dict]:
    """A spec from a TOML or JSON file, and its extras (csv, files, hand list)."""
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise MailingError(f"{path}: {exc}") from exc
    for key, target in FILE_KEYS.items():
        if key in data:
            data[target] = (path.parent / data.pop(key)).read_text(encoding="utf-8")
    extras = {key: data.pop(key) for key in EXTRA_KEYS if key in data}
    for key in ("recipients_csv", "files_dir"):
        if key in extras:
            extras[key] = path.parent / extras[key]
    return spec_from_dict(data, str(path)), extras


def spec_from_dict(data: dict, where: str = "the mailing") -> MailingSpec:
    """A spec from plain values, naming unknown or missing keys."""
    known = {f.name for f in fields(MailingSpec)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise MailingError(f"{where}: unknown key(s) {', '.join(unknown)}")
    missing = [
        name for name in ("name", "account", "subject", "body") if not data.get(name)
    ]
    if missing:
        raise MailingError(f"{where}: missing {', '.join(missing)}")
    return MailingSpec(**data)


def check_spec(settings: Settings, spec: MailingSpec) -> None:
    """Refuse a spec that cannot work, saying which part and why."""
    if spec.kind not in KINDS:
        raise MailingError(f"kind must be one of {', '.join(KINDS)}, not {spec.kind!r}")
    if spec.addresses not in ADDRESS_RULES:
        raise MailingError(f"addresses must be one of {', '.join(ADDRESS_RULES)}")
    if spec.locale not in ("pl", "en"):
        raise MailingError("locale must be pl or en")
    check_files_rule(spec.files_match, spec.files_pattern)
    parse_selection(spec.selection)
    if spec.kind == MARKETING:
        unsubscribe_url(settings, 0)  # raises when there is no public address


def create_mailing(
    session: Session,
    settings: Settings,
    spec: MailingSpec,
    author_user_id: int | None = None,
) -> Mailing:
    """A new draft mailing from a spec (recipients are added apart)."""
    check_spec(settings, spec)
    account = get_account(session, spec.account)
    mailing = Mailing(account_id=account.id, author_user_id=author_user_id)
    _apply(mailing, spec)
    _check_templates(mailing)
    session.add(mailing)
    session.flush()
    log.info(
        "mailing=%s created kind=%s account=%s", mailing.id, mailing.kind, account.name
    )
    return mailing


def update_mailing(
    session: Session, settings: Settings, mailing: Mailing, spec: MailingSpec
) -> Mailing:
    """Change a draft mailing to what the spec says."""
    require_draft(mailing)
    check_spec(settings, spec)
    mailing.account_id = get_account(session, spec.account).id
    _apply(mailing, spec)
    _check_templates(mailing)
    session.flush()
    return mailing


def spec_of(session: Session, mailing: Mailing) -> MailingSpec:
    """The spec a mailing was made from (for editing, or a copy)."""
    from mailservice.accounts.models import Account

    return MailingSpec(
        name=mailing.name,
        account=session.get(Account, mailing.account_id).name,
        subject=mailing.subject_source,
        body=mailing.body_source,
        kind=mailing.kind,
        locale=mailing.locale,
        signature=mailing.include_signature,
        document=mailing.document_source,
        document_filename=mailing.document_filename,
        addresses=mailing.address_rule,
        person_position=mailing.person_position,
        selection=json.loads(mailing.selection or "{}"),
        files_match=mailing.files_match,
        files_pattern=mailing.files_pattern,
        files_required=mailing.files_required,
    )


def _apply(mailing: Mailing, spec: MailingSpec) -> None:
    mailing.name, mailing.kind, mailing.locale = spec.name, spec.kind, spec.locale
    mailing.subject_source, mailing.body_source = spec.subject, spec.body
    mailing.include_signature = spec.signature
    mailing.document_source = spec.document or None
    mailing.document_filename = spec.document_filename or "dokument.pdf"
    mailing.address_rule, mailing.person_position = spec.addresses, spec.person_position
    mailing.selection = json.dumps(spec.selection, sort_keys=True)
    mailing.files_match, mailing.files_pattern = spec.files_match, spec.files_pattern
    mailing.files_required = spec.files_required


def _check_templates(mailing: Mailing) -> None:
    problems = template_problems(mailing)
    if problems:
        raise TemplateValidationError(problems)
