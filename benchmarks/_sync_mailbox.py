"""The sync benchmark's mailbox: a seeded company mailbox written as Maildir files.

A wholesaler's `biuro@` mailbox: conversations of one to six messages with
customers and suppliers (Re:/Odp:/RE:/AW: replies carrying In-Reply-To and
References, some Outlook Thread-Index, a few with neither), Polish subjects and
names in encoded words, plain text in quoted-printable, 8bit or base64, HTML
alternatives and newsletters, and about 5 % with attachments of 100 KB-3 MB.
Folders: INBOX, Sent, Księgowość (invoices) and Archiwum/2024. The contacts CSV
that goes with it makes linking work: known addresses, unknown people at a
contact's domain, free-mail and newsletter senders that link to nothing.

Everything comes from one seed, and the result is cached under .bench/ keyed by
its parameters: the second run of a benchmark only links the files into place.
"""

from __future__ import annotations

import base64
import csv
import json
import math
import os
import quopri
import random
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email.header import Header
from email.utils import format_datetime, formataddr
from pathlib import Path

from imapclient.imap_utf7 import encode as utf7_encode

from benchmarks import _sync_words as words

VERSION = 2  # bump when the generator's output changes: old caches are not reused
CACHE = Path(__file__).resolve().parents[1] / ".bench" / "sync-mailbox"
OFFICE = "biuro@hurtownia-bench.pl"
FOLDERS = ("INBOX", "Sent", "Księgowość", "Archiwum/2024")
START = datetime(2024, 1, 2, 8, 0, tzinfo=UTC)
SPAN_DAYS = 790
CONTACTS = 300
ATTACHMENT_SHARE = 0.05
BLOB_BYTES = 3_200_000


@dataclass(frozen=True)
class Mailbox:
    """A generated mailbox on disk: its Maildir++ tree, contacts CSV and figures."""

    root: Path
    messages: int
    bytes: int  # as IMAP sends them (CRLF line ends): RFC822.SIZE summed
    folders: dict[str, int]
    attachments: int
    html: int

    @property
    def maildir(self) -> Path:
        return self.root / "Maildir"

    @property
    def contacts_csv(self) -> Path:
        return self.root / "contacts.csv"

    @property
    def megabytes(self) -> float:
        return self.bytes / 1_000_000


def mailbox(messages: int, seed: int = 7) -> Mailbox:
    """The cached mailbox for these parameters, generated first when missing."""
    root = CACHE / f"v{VERSION}-m{messages}-s{seed}"
    if not (root / "manifest.json").exists():
        _generate(root, messages, seed)
    figures = json.loads((root / "manifest.json").read_text())
    return Mailbox(root=root, **figures)


def maildir_folder(top: Path, folder: str) -> Path:
    """Where `folder` lives in a Maildir++ tree (Dovecot's layout, '/' as '.')."""
    if folder == "INBOX":
        return top
    return top / ("." + utf7_encode(folder).decode("ascii").replace("/", "."))


def _generate(root: Path, messages: int, seed: int) -> None:
    # Written beside the final folder and renamed: an interrupted run leaves no
    # half mailbox that a later run would take for a finished one.
    partial = root.with_name(f"{root.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    rng = random.Random(seed)
    contacts = [_contact(rng, n) for n in range(CONTACTS)]
    _write_contacts(partial / "contacts.csv", contacts)
    figures = _write_messages(partial / "Maildir", rng, contacts, messages)
    (partial / "manifest.json").write_text(json.dumps(figures))
    shutil.rmtree(root, ignore_errors=True)
    partial.rename(root)


# -- contacts -----------------------------------------------------------------

@dataclass
class _Contact:
    name: str
    domain: str
    owns_domain: bool
    generic: str  # biuro@, faktury@ ...
    person: str
    person_email: str
    position: str
    nip: str


def _contact(rng: random.Random, n: int) -> _Contact:
    stem = words.COMPANY_STEMS[n % len(words.COMPANY_STEMS)]
    serial = n // len(words.COMPANY_STEMS)
    label = stem if serial == 0 else f"{stem} {words.ROMAN[serial]}"
    domain = f"{words.ascii_fold(stem).lower()}{serial or ''}.pl"
    person = words.person_name(rng)
    return _Contact(
        name=f"{label} {rng.choice(words.COMPANY_FORMS)}",
        domain=domain,
        owns_domain=rng.random() < 0.6,
        generic=f"{rng.choice(['biuro', 'faktury', 'zamowienia', 'kontakt'])}@{domain}",
        person=person,
        person_email=words.ascii_fold(person.replace(" ", ".")).lower() + f"@{domain}",
        position=rng.choice(words.POSITIONS),
        nip=_nip(rng) if rng.random() < 0.5 else "",
    )


def _nip(rng: random.Random) -> str:
    # Polish NIP: nine digits and a check digit, sum of weighted digits mod 11
    # (a remainder of 10 is never issued, so such numbers are drawn again).
    weights = (6, 5, 7, 2, 3, 4, 5, 6, 7)
    while True:
        digits = [rng.randrange(1, 10)] + [rng.randrange(10) for _ in range(8)]
        check = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        if check < 10:
            return "".join(map(str, digits)) + str(check)


def _write_contacts(path: Path, contacts: list[_Contact]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["name", "kind", "nip", "emails", "domains", "person",
                      "person_email", "person_position"])
        for c in contacts:
            out.writerow([c.name, "company", c.nip, c.generic,
                          c.domain if c.owns_domain else "", c.person,
                          c.person_email, c.position])


# -- conversations ------------------------------------------------------------

@dataclass
class _Mail:
    folder: str
    sent: datetime
    sender: tuple[str, str]
    recipient: tuple[str, str]
    subject: str
    message_id: str
    in_reply_to: str | None
    references: list[str]
    thread_index: str | None
    kind: str  # plain, html, newsletter
    attachment: bool
    flags: str


def _write_messages(top: Path, rng: random.Random, contacts: list[_Contact],
                    total: int) -> dict:
    pools = words.Pools(rng)
    blob = rng.randbytes(BLOB_BYTES)
    for folder in FOLDERS:
        for sub in ("cur", "new", "tmp"):
            (maildir_folder(top, folder) / sub).mkdir(parents=True, exist_ok=True)

    figures = {"messages": 0, "bytes": 0, "attachments": 0, "html": 0,
               "folders": {folder: 0 for folder in FOLDERS}}
    while figures["messages"] < total:
        for mail in _conversation(rng, contacts, figures["messages"]):
            if figures["messages"] == total:
                break
            raw = _render(mail, rng, pools, blob)
            _write(top, mail, raw, figures["messages"])
            figures["messages"] += 1
            figures["bytes"] += len(raw) + raw.count(b"\n")  # CRLF on the wire
            figures["folders"][mail.folder] += 1
            figures["attachments"] += mail.attachment
            figures["html"] += mail.kind != "plain"
    return figures


def _conversation(rng: random.Random, contacts: list[_Contact], serial: int):
    contact = rng.choice(contacts)
    outside = _outside_party(rng, contact)
    started = START + timedelta(minutes=rng.randrange(SPAN_DAYS * 24 * 60))
    if outside[1].startswith("newsletter@"):
        yield _newsletter(rng, outside, started, serial)
        return

    topic = rng.choice(words.TOPICS)
    subject = topic.format(n=rng.randrange(10, 999), y=started.year)
    length = rng.choices((1, 2, 3, 4, 5, 6), weights=(35, 25, 18, 10, 7, 5))[0]
    office = (rng.choice(words.STAFF), OFFICE)
    incoming = rng.random() < 0.8
    outlook = rng.random() < 0.25
    root_index = rng.randbytes(22)
    sent, ids = started, []
    for step in range(length):
        from_outside = incoming == (step % 2 == 0)
        message_id = f"{rng.getrandbits(64):016x}.{serial + step}@" + (
            outside[1].split("@")[1] if from_outside else "hurtownia-bench.pl")
        yield _Mail(
            folder=_folder(rng, topic, sent) if from_outside else "Sent",
            sent=sent,
            sender=outside if from_outside else office,
            recipient=office if from_outside else outside,
            subject=(rng.choice(words.REPLY_PREFIXES) if step else "") + subject,
            message_id=message_id,
            **_reply_headers(rng, ids),
            thread_index=_thread_index(root_index, step) if outlook else None,
            kind="html" if rng.random() < 0.35 else "plain",
            attachment=rng.random() < ATTACHMENT_SHARE,
            flags=_flags(rng, from_outside),
        )
        ids.append(message_id)
        sent += timedelta(minutes=rng.randrange(20, 3 * 24 * 60))


def _outside_party(rng: random.Random, contact: _Contact) -> tuple[str, str]:
    kind = rng.random()
    if kind < 0.45:
        return contact.person, contact.person_email
    if kind < 0.60:
        return contact.name, contact.generic
    if kind < 0.75 and contact.owns_domain:
        name = words.person_name(rng)
        first, last = name.split()
        local = words.ascii_fold(f"{first[0]}.{last}").lower()
        return name, f"{local}@{contact.domain}"
    if kind < 0.90:
        name = words.person_name(rng)
        local = words.ascii_fold(name.replace(" ", ".")).lower()
        local += str(rng.randrange(100))
        return name, f"{local}@{rng.choice(words.FREE_MAIL)}"
    sender = rng.choice(words.NEWSLETTERS)
    return sender, f"newsletter@{words.ascii_fold(sender).lower().replace(' ', '-')}.pl"


def _newsletter(rng: random.Random, sender: tuple[str, str], sent: datetime,
                serial: int) -> _Mail:
    return _Mail(
        folder="INBOX", sent=sent, sender=sender, recipient=("", OFFICE),
        subject=rng.choice(words.NEWSLETTER_SUBJECTS).format(y=sent.year),
        message_id=f"{rng.getrandbits(64):016x}.{serial}@{sender[1].split('@')[1]}",
        in_reply_to=None, references=[], thread_index=None, kind="newsletter",
        attachment=False, flags=_flags(rng, True),
    )


def _reply_headers(rng: random.Random, ids: list[str]) -> dict:
    if not ids:
        return {"in_reply_to": None, "references": []}
    style = rng.random()
    if style < 0.05:  # a client that keeps neither: only the subject links it
        return {"in_reply_to": None, "references": []}
    if style < 0.15:  # In-Reply-To alone (RFC 5322 3.6.4 makes References optional)
        return {"in_reply_to": ids[-1], "references": []}
    return {"in_reply_to": ids[-1], "references": ids[-10:]}


def _folder(rng: random.Random, topic: str, sent: datetime) -> str:
    if topic.startswith("Faktura") and rng.random() < 0.7:
        return "Księgowość"
    if sent.year == 2024 and rng.random() < 0.4:
        return "Archiwum/2024"
    return "INBOX"


def _flags(rng: random.Random, incoming: bool) -> str:
    if not incoming:
        return "S"
    return rng.choices(("S", "RS", "FS", ""), weights=(70, 15, 5, 10))[0]


def _thread_index(root: bytes, depth: int) -> str:
    # Outlook's Thread-Index: a 22-byte header, then 5 bytes per reply (MS-OXOMSG).
    return base64.b64encode(root + b"\x00\x10\x20\x30\x40" * depth).decode()


# -- rendering ----------------------------------------------------------------

def _render(mail: _Mail, rng: random.Random, pools: words.Pools, blob: bytes) -> bytes:
    boundary = f"----=_Part_{rng.getrandbits(48):012x}"
    if mail.kind == "newsletter":
        part = _html_only(rng, pools)
    elif mail.kind == "html":
        part = _alternative(rng, pools, mail, boundary + "_alt")
    else:
        part = _plain(rng, pools, mail)
    if mail.attachment:
        part = _with_attachments(rng, blob, part, boundary)
    head, body = part
    return _headers(mail, rng) + head + b"\n" + body


def _headers(mail: _Mail, rng: random.Random) -> bytes:
    local = _local_time(mail.sent)
    charset = _charset(rng, mail.subject + mail.sender[0] + mail.recipient[0])
    lines = [
        f"Return-Path: <{mail.sender[1]}>",
        _received(mail, rng, local),
        f"Message-ID: <{mail.message_id}>",
        f"Date: {format_datetime(local)}",
        f"From: {_address(mail.sender, charset)}",
        f"To: {_address(mail.recipient, charset)}",
        "Subject: " + Header(mail.subject, charset, header_name="Subject").encode(),
    ]
    if mail.in_reply_to:
        lines.append(f"In-Reply-To: <{mail.in_reply_to}>")
    if mail.references:
        lines.append("References: " + "\n ".join(f"<{r}>" for r in mail.references))
    if mail.thread_index:
        lines.append(f"Thread-Index: {mail.thread_index}")
    if mail.kind == "newsletter":
        lines.append("List-Unsubscribe: <https://newsletter.example/wypisz>")
    lines += [f"X-Mailer: {rng.choice(words.MAILERS)}", "MIME-Version: 1.0"]
    return "\n".join(lines).encode("ascii") + b"\n"


def _received(mail: _Mail, rng: random.Random, local: datetime) -> str:
    return (
        "Received: from mx.bench.example (mx.bench.example [192.0.2.25])\n"
        f"\tby mail.hurtownia-bench.pl (Postfix) with ESMTPS id {rng.getrandbits(40):X}"
        f"\n\tfor <{mail.recipient[1]}>; {format_datetime(local)}"
    )


def _charset(rng: random.Random, text: str) -> str:
    # Older Polish mailers still write ISO-8859-2 where it can hold the text.
    if rng.random() < 0.15:
        try:
            text.encode("iso-8859-2")
            return "iso-8859-2"
        except UnicodeEncodeError:
            pass
    return "utf-8"


def _address(pair: tuple[str, str], charset: str) -> str:
    name, address = pair
    if not name:
        return address
    return formataddr((name, address), charset=charset)


def _local_time(moment: datetime) -> datetime:
    # Poland: CET in winter, CEST from the last Sunday of March (roughly).
    summer = 4 <= moment.month <= 10
    return moment.astimezone(timezone(timedelta(hours=2 if summer else 1)))


# A part is its header lines and its encoded body; a message is its headers and
# one part.
Part = tuple[bytes, bytes]


def _plain(rng: random.Random, pools: words.Pools, mail: _Mail) -> Part:
    text = pools.text(rng, _body_size(rng)) + _quote(rng, pools, mail)
    encoding = rng.choices(("quoted-printable", "8bit", "base64"), weights=(6, 3, 1))[0]
    return _leaf("text/plain; charset=utf-8", text.encode(), encoding)


def _alternative(rng: random.Random, pools: words.Pools, mail: _Mail,
                 boundary: str) -> Part:
    size = _body_size(rng)
    text = pools.text(rng, size // 2) + _quote(rng, pools, mail)
    html = pools.html(rng, size)
    parts = [
        _leaf("text/plain; charset=utf-8", text.encode(), "quoted-printable"),
        _leaf("text/html; charset=utf-8", html.encode(), "quoted-printable"),
    ]
    return _multipart("alternative", boundary, parts)


def _html_only(rng: random.Random, pools: words.Pools) -> Part:
    html = pools.html(rng, _body_size(rng) * 2)
    return _leaf("text/html; charset=utf-8", html.encode(), "base64")


def _with_attachments(rng: random.Random, blob: bytes, body: Part,
                      boundary: str) -> Part:
    total = int(math.exp(rng.uniform(math.log(100_000), math.log(3_000_000))))
    count = 1 if total < 500_000 or rng.random() < 0.6 else 2
    parts = [body]
    for _ in range(count):
        size = total // count
        start = rng.randrange(len(blob) - size)
        name, mime = rng.choice(words.ATTACHMENTS)
        parts.append(_attachment(name.format(n=rng.randrange(1, 999)), mime,
                                 blob[start:start + size]))
    return _multipart("mixed", boundary, parts)


def _attachment(name: str, mime: str, data: bytes) -> Part:
    # RFC 2231 filename*: what Thunderbird writes for non-ASCII names.
    quoted = "".join(
        chr(b) if b < 128 and (chr(b).isalnum() or chr(b) in "._-") else f"%{b:02X}"
        for b in name.encode("utf-8")
    )
    head, body = _leaf(f'{mime}; name="{words.ascii_fold(name)}"', data, "base64")
    disposition = f"Content-Disposition: attachment; filename*=UTF-8''{quoted}\n"
    return head + disposition.encode("ascii"), body


def _leaf(content_type: str, data: bytes, encoding: str) -> Part:
    if encoding == "quoted-printable":
        body = quopri.encodestring(data)
    elif encoding == "base64":
        body = base64.encodebytes(data)
    else:
        body = data
    head = f"Content-Type: {content_type}\nContent-Transfer-Encoding: {encoding}\n"
    return head.encode("ascii"), body


def _multipart(subtype: str, boundary: str, parts: list[Part]) -> Part:
    out = [b"This is a multi-part message in MIME format.\n"]
    for head, body in parts:
        out += [b"\n--", boundary.encode(), b"\n", head, b"\n", body.rstrip(b"\n"),
                b"\n"]
    out += [b"\n--", boundary.encode(), b"--\n"]
    head = f'Content-Type: multipart/{subtype};\n boundary="{boundary}"\n'
    return head.encode("ascii"), b"".join(out)


def _body_size(rng: random.Random) -> int:
    # Most messages 2-20 KB in all: the body alone 1-18 KB, log-uniform.
    return int(math.exp(rng.uniform(math.log(1_000), math.log(18_000))))


def _quote(rng: random.Random, pools: words.Pools, mail: _Mail) -> str:
    if not mail.subject.startswith(words.REPLY_PREFIXES):
        return ""
    quoted = pools.text(rng, rng.randrange(300, 3000))
    when = format_datetime(_local_time(mail.sent - timedelta(hours=5)))
    lines = "\n".join("> " + line for line in quoted.splitlines())
    return f"\nW dniu {when} pisze:\n{lines}\n"


def _write(top: Path, mail: _Mail, raw: bytes, serial: int) -> None:
    stamp = int(mail.sent.timestamp())
    wire = len(raw) + raw.count(b"\n")
    # Maildir name with S= and W= (Dovecot's own sizes), flags after ":2,".
    name = f"{stamp}.M{serial:06d}P7.bench,S={len(raw)},W={wire}:2,{mail.flags}"
    path = maildir_folder(top, mail.folder) / "cur" / name
    path.write_bytes(raw)
    # Dovecot takes a Maildir file's mtime as its INTERNALDATE (received date).
    os.utime(path, (stamp, stamp))
