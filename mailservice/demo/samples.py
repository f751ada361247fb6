"""The demo's sample mail and contacts, shipped inside the package.

`samples/mailbox.csv` says which folder each sample message is in and with which
flags; a message listed twice is one message with a copy in two folders.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime
from email.parser import BytesHeaderParser
from email.utils import parsedate_to_datetime
from pathlib import Path

SAMPLES_DIR = Path(__file__).resolve().parent / "samples"
MAILBOX_CSV = SAMPLES_DIR / "mailbox.csv"
CONTACTS_CSV = SAMPLES_DIR / "contacts.csv"


@dataclass(frozen=True)
class SampleCopy:
    """One sample message in one folder, with its IMAP flags."""

    file: str
    folder: str
    flags: tuple[str, ...]

    @property
    def path(self) -> Path:
        return SAMPLES_DIR / self.file

    def raw(self) -> bytes:
        """The message with CRLF line ends, as it travels (RFC 5322 2.1)."""
        data = self.path.read_bytes().replace(b"\r\n", b"\n")
        return data.replace(b"\n", b"\r\n")

    def date(self) -> datetime:
        """The Date header, used as the copy's IMAP INTERNALDATE."""
        with self.path.open("rb") as stream:
            headers = BytesHeaderParser().parse(stream)
        return parsedate_to_datetime(headers["Date"])


def sample_copies() -> list[SampleCopy]:
    """Every copy of every sample message, in the order they are loaded."""
    with MAILBOX_CSV.open(encoding="utf-8", newline="") as stream:
        return [
            SampleCopy(row["file"], row["folder"], tuple(row["flags"].split()))
            for row in csv.DictReader(stream)
        ]


def sample_folders() -> list[str]:
    """The folders the samples fill, INBOX first, each once."""
    folders = ["INBOX"]
    for copy in sample_copies():
        if copy.folder not in folders:
            folders.append(copy.folder)
    return folders
