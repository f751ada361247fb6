"""A generated company mailbox for the web benchmark: N messages in N/2.5 threads.

Written with bulk inserts straight into the schema the sync, linking, threading
and search indexing fill, so a 100,000-message database takes a minute, not hours.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from mailservice.accounts.models import Account, Folder
from mailservice.contacts.models import Contact, ContactAddress, MessageContact
from mailservice.inbox.search_index import fold, write_documents
from mailservice.messages.models import (
    PARSED,
    Attachment,
    Message,
    MessageAddress,
    MessageLocation,
)
from mailservice.threads.models import Thread

CHUNK = 5000
START = datetime(2024, 1, 1, tzinfo=timezone.utc)
SPAN_SECONDS = 3 * 365 * 24 * 3600
TOPICS = (
    "faktura",
    "zamówienie",
    "oferta",
    "reklamacja",
    "płatność",
    "dostawa",
    "umowa",
    "termin",
    "wycena",
    "zwrot",
    "przelew",
    "korekta",
    "cennik",
    "spotkanie",
    "rabat",
    "gwarancja",
    "serwis",
    "transport",
    "magazyn",
    "saldo",
)
SYLLABLES = (
    "ka",
    "to",
    "ma",
    "ry",
    "no",
    "wi",
    "el",
    "stra",
    "pol",
    "ge",
    "zu",
    "bi",
    "de",
    "for",
    "mo",
    "la",
    "kre",
    "sy",
    "ta",
    "wo",
)


def vocabulary(rng: random.Random, size: int = 3000) -> list[str]:
    """Made-up words (plus business terms) so that searches hit a realistic share."""
    words = set(TOPICS)
    while len(words) < size:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def generate(
    session: Session, messages: int, threads: int, contacts: int, seed: int = 42
) -> dict:
    """Fill an empty, migrated database; returns ids the benchmark requests."""
    rng = random.Random(seed)
    words = vocabulary(rng)
    folders = _account(session)
    contact_rows = _contacts(session, contacts)
    plan = _plan(rng, messages, threads, contacts)
    _threads(session, rng, plan, words)
    _messages(session, rng, plan, words, folders, contact_rows)
    _analyze(session)
    return {
        "inbox": folders["inbox"],
        "threads": threads,
        "contacts": contacts,
        "words": words,
    }


def _account(session: Session) -> dict[str, int]:
    account = Account(
        name="sales",
        email="sales@firma.test",
        imap_host="127.0.0.1",
        imap_port=143,
        imap_security="none",
        username="sales",
        secret_encrypted="-",
    )
    session.add(account)
    session.flush()
    ids = {}
    for role, name in (
        ("inbox", "INBOX"),
        ("sent", "Sent"),
        ("archive", "Archive"),
        ("trash", "Trash"),
    ):
        folder = Folder(
            account_id=account.id,
            wire_name=name,
            name=name,
            role=role,
            uidvalidity=1,
            last_uid=0,
        )
        session.add(folder)
        session.flush()
        ids[role] = folder.id
    return ids


def _contacts(session: Session, count: int) -> list[tuple[str, str]]:
    rows = [
        {
            "id": i,
            "kind": "company",
            "name": f"Firma {i:04d} Sp. z o.o.",
            "country": "PL",
            "created_at": START,
        }
        for i in range(1, count + 1)
    ]
    _bulk(session, Contact, rows)
    addresses = [
        {
            "contact_id": i,
            "address": f"biuro@firma{i}.test",
            "address_norm": f"biuro@firma{i}.test",
        }
        for i in range(1, count + 1)
    ]
    _bulk(session, ContactAddress, addresses)
    return [(f"Firma {i:04d}", f"biuro@firma{i}.test") for i in range(1, count + 1)]


def _plan(rng, messages: int, threads: int, contacts: int) -> list[dict]:
    # Every thread gets one message, the rest go to threads picked with a skew,
    # so a few threads are long; a thread's contact follows a skew too.
    owner = [
        None if rng.random() < 0.3 else int(rng.paretovariate(1.2)) % contacts + 1
        for _ in range(threads)
    ]
    sizes = [1] * threads
    for _ in range(messages - threads):
        sizes[min(int(rng.expovariate(1 / (threads / 4))), threads - 1)] += 1
    return [
        {
            "thread": t + 1,
            "size": sizes[t],
            "contact": owner[t],
            "start": START + timedelta(seconds=rng.randrange(SPAN_SECONDS)),
        }
        for t in range(threads)
    ]


def _threads(session, rng, plan, words) -> None:
    rows = []
    for item in plan:
        item["subject"] = (
            f"{rng.choice(TOPICS).capitalize()} {rng.choice(words)} "
            f"{rng.randint(1, 999)}/{rng.randint(2024, 2026)}"
        )
        last = item["start"] + timedelta(hours=item["size"] - 1)
        rows.append(
            {
                "id": item["thread"],
                "subject": item["subject"],
                "normalized_subject": item["subject"].lower(),
                "first_at": item["start"],
                "last_at": last,
                "message_count": item["size"],
            }
        )
    _bulk(session, Thread, rows)


def _messages(session, rng, plan, words, folders, contacts) -> None:
    batch: dict[str, list] = {"m": [], "l": [], "a": [], "c": [], "f": [], "s": []}
    number = 0
    for item in plan:
        for position in range(item["size"]):
            number += 1
            _one(rng, number, item, position, words, folders, contacts, batch)
            if len(batch["m"]) >= CHUNK:
                _flush(session, batch)
    _flush(session, batch)


def _one(rng, number, item, position, words, folders, contacts, batch) -> None:
    outgoing = position % 2 == 1 and rng.random() < 0.6
    contact = item["contact"]
    if contact:
        name, address = contacts[contact - 1]
    else:
        name, address = f"Klient {number}", f"osoba{number}@poczta{number % 997}.test"
    sender = ("Dział sprzedaży", "sales@firma.test") if outgoing else (name, address)
    sent_at = item["start"] + timedelta(hours=position)
    body = " ".join(rng.choice(words) for _ in range(60))
    subject = item["subject"] if position == 0 else f"Re: {item['subject']}"
    attached = rng.random() < 0.12
    batch["m"].append(
        {
            "id": number,
            "identity_key": f"bench-{number}",
            "raw_sha256": "0" * 64,
            "size": 4000 + len(body),
            "message_id_header": f"<b{number}@bench.test>",
            "subject": subject,
            "normalized_subject": item["subject"].lower(),
            "from_name": sender[0],
            "from_address": sender[1],
            "sent_at": sent_at,
            "internal_date": sent_at,
            "has_attachments": attached,
            "is_auto_reply": False,
            "parse_status": PARSED,
            "snippet": body[:200],
            "body_text": body,
            "has_winmail_dat": False,
            "thread_id": item["thread"],
            "created_at": sent_at,
        }
    )
    folder = folders["sent"] if outgoing else folders["inbox"]
    batch["l"].append(
        {
            "message_id": number,
            "folder_id": folder,
            "uidvalidity": 1,
            "uid": number,
            "raw_sha256": "0" * 64,
            "flags": "" if rng.random() < 0.08 else "\\Seen",
            "synced_at": sent_at,
        }
    )
    recipient = (name, address) if outgoing else ("Dział sprzedaży", "sales@firma.test")
    for role, (who, where) in (("from", sender), ("to", recipient)):
        batch["a"].append(
            {
                "message_id": number,
                "role": role,
                "name": who,
                "address": where,
                "address_norm": where,
                "domain": where.split("@")[1],
            }
        )
    if contact:
        batch["c"].append(
            {"message_id": number, "contact_id": contact, "via": "address"}
        )
    filename = f"{rng.choice(TOPICS)}_{number}.pdf" if attached else ""
    if attached:
        batch["f"].append(
            {
                "message_id": number,
                "filename": filename,
                "content_type": "application/pdf",
                "size": 50_000,
                "is_inline": False,
                "part_path": "2",
            }
        )
    batch["s"].append(
        {
            "id": number,
            "subject": fold(subject),
            "addresses": fold(f"{sender[0]} {sender[1]} {recipient[0]} {recipient[1]}"),
            "attachments": fold(filename),
            "body": fold(body),
        }
    )


def _flush(session, batch) -> None:
    for key, model in (
        ("m", Message),
        ("l", MessageLocation),
        ("a", MessageAddress),
        ("c", MessageContact),
        ("f", Attachment),
    ):
        if batch[key]:
            session.execute(insert(model), batch[key])
    if batch["s"]:
        write_documents(session, batch["s"])
    session.commit()
    for rows in batch.values():
        rows.clear()


def _bulk(session, model, rows) -> None:
    for start in range(0, len(rows), CHUNK):
        session.execute(insert(model), rows[start : start + CHUNK])
    session.commit()


def _analyze(session) -> None:
    # What autovacuum leaves a live PostgreSQL database with: planner statistics
    # and a visibility map (index-only scans need it).
    session.commit()
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("ANALYZE"))
        session.commit()
        return
    with session.get_bind().connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(
            text("VACUUM ANALYZE")
        )
