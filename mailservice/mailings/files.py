"""Per-recipient files: taken from a folder or an upload, then matched to recipients.

Files are copied into the outbox spool (shared storage) when they are given, so
the workers that attach them need not see the folder they came from. Matching
says which files each recipient gets:
- `column`: the names in the recipient's `file` column of the CSV list;
- `nip`: every file whose name holds the contact's NIP (ten digits);
- `pattern`: a glob with {nip}, {contact_id}, {position} and {number} (the
  document number, "/" written as "_"), e.g. `FS_{number}.pdf`.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import mimetypes
import re
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailservice.config import Settings
from mailservice.contacts.models import Contact
from mailservice.errors import MailingError, NotFoundError
from mailservice.mailings.models import (
    FILES_MATCH,
    Mailing,
    MailingRecipient,
    MailingUpload,
)
from mailservice.mailings.recipients import require_draft
from mailservice.outbound.headers import clean_header_value
from mailservice.outbound.spool import Spool

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 25 * 1024 * 1024  # what most providers still accept in one message
_NIP_IN_NAME = re.compile(r"(?<!\d)(\d{10})(?!\d)")
_PLACEHOLDERS = ("nip", "contact_id", "position", "number")


def add_file(
    session: Session, settings: Settings, mailing: Mailing, filename: str, data: bytes
) -> MailingUpload:
    """Keep a per-recipient file for a draft (one of the same name is replaced)."""
    require_draft(mailing)
    name = clean_header_value(Path(filename).name, field="file name")
    if not name or name.startswith("."):
        raise MailingError(f"{filename!r} is not a usable file name")
    if len(data) > MAX_FILE_BYTES:
        raise MailingError(
            f"{name} is {len(data)} bytes; the limit is {MAX_FILE_BYTES}"
        )
    sha256 = Spool(settings.outbox_dir).put_file(data)
    upload = session.scalar(
        select(MailingUpload).where(
            MailingUpload.mailing_id == mailing.id, MailingUpload.filename == name
        )
    )
    if upload is None:
        upload = MailingUpload(mailing_id=mailing.id, filename=name)
        session.add(upload)
    upload.content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    upload.size, upload.sha256 = len(data), sha256
    session.flush()
    return upload


def add_folder(
    session: Session, settings: Settings, mailing: Mailing, folder: Path
) -> int:
    """Keep every regular file of a folder (not its subfolders); how many."""
    folder = Path(folder)
    if not folder.is_dir():
        raise MailingError(f"{folder} is not a folder")
    count = 0
    for path in sorted(folder.iterdir()):
        if path.is_file() and not path.name.startswith("."):
            add_file(session, settings, mailing, path.name, path.read_bytes())
            count += 1
    log.info("mailing=%s took %d files from %s", mailing.id, count, folder)
    return count


class FileIndex:
    """A mailing's file names, indexed for matching (built once per pass)."""

    def __init__(self, session: Session, mailing: Mailing) -> None:
        self.mailing = mailing
        self.by_name: dict[str, int] = {}
        self.by_lower: dict[str, int] = {}
        self.by_nip: dict[str, list[int]] = {}
        rows = session.execute(
            select(MailingUpload.filename, MailingUpload.id).where(
                MailingUpload.mailing_id == mailing.id
            )
        )
        for name, upload_id in rows:
            self.by_name[name] = upload_id
            self.by_lower.setdefault(name.lower(), upload_id)
            for nip in _NIP_IN_NAME.findall(name):
                self.by_nip.setdefault(nip, []).append(upload_id)

    def match(self, recipient: MailingRecipient, nip: str | None) -> list[int]:
        """The upload ids a recipient gets under the mailing's rule."""
        rule = self.mailing.files_match
        if rule == "column":
            return self._by_names(recipient.files_key or "")
        if rule == "nip":
            return list(self.by_nip.get(nip or "", []))
        if rule == "pattern":
            return self._by_pattern(recipient, nip)
        return []

    def _by_names(self, text: str) -> list[int]:
        found = []
        for name in (part.strip() for part in text.split(";")):
            upload_id = self.by_name.get(name) or self.by_lower.get(name.lower())
            if name and upload_id is not None:
                found.append(upload_id)
        return found

    def _by_pattern(self, recipient: MailingRecipient, nip: str | None) -> list[int]:
        number = json.loads(recipient.fields or "{}").get("number", "")
        values = {
            "nip": nip or "",
            "contact_id": recipient.contact_id or "",
            "position": recipient.position,
            "number": _safe(number),
        }
        pattern = self.mailing.files_pattern or ""
        if any(f"{{{key}}}" in pattern and not values[key] for key in _PLACEHOLDERS):
            return []  # a placeholder without a value would match everyone's files
        wanted = pattern.format(**values)
        if not any(char in wanted for char in "*?["):
            upload_id = self.by_name.get(wanted)
            return [upload_id] if upload_id is not None else []
        return [
            i for name, i in self.by_name.items() if fnmatch.fnmatchcase(name, wanted)
        ]


def _safe(value: str) -> str:
    return re.sub(r"[/\\]", "_", str(value))


def check_files_rule(match: str, pattern: str | None) -> None:
    """Refuse an unknown matching rule or a pattern with unknown placeholders."""
    if match not in FILES_MATCH:
        raise MailingError(f"file matching must be one of {', '.join(FILES_MATCH)}")
    if match == "pattern":
        if not pattern:
            raise MailingError("file matching by pattern needs a pattern")
        try:
            pattern.format(**dict.fromkeys(_PLACEHOLDERS, "x"))
        except (KeyError, IndexError, ValueError) as exc:
            raise MailingError(
                f"the file pattern {pattern!r} has an unknown placeholder {exc}; "
                f"known: {', '.join('{' + p + '}' for p in _PLACEHOLDERS)}"
            ) from None


def recipient_files(
    session: Session,
    mailing: Mailing,
    recipient: MailingRecipient,
    index: FileIndex | None = None,
) -> list[MailingUpload]:
    """The files one recipient gets."""
    index = index or FileIndex(session, mailing)
    nip = None
    if recipient.contact_id is not None:
        nip = session.scalar(
            select(Contact.nip).where(Contact.id == recipient.contact_id)
        )
    ids = index.match(recipient, nip)
    if not ids:
        return []
    uploads = {
        u.id: u
        for u in session.scalars(select(MailingUpload).where(MailingUpload.id.in_(ids)))
    }
    return [uploads[i] for i in dict.fromkeys(ids) if i in uploads]


def read_upload(settings: Settings, upload: MailingUpload) -> bytes:
    """The bytes of a kept file."""
    try:
        return Spool(settings.outbox_dir).read_file(upload.sha256)
    except OSError as exc:
        raise NotFoundError(
            f"the file {upload.filename} is missing from the outbox spool: {exc}"
        ) from exc
