"""Threading on the sync hot path: messages per second for 200-message batches.

`python -m benchmarks threads [--quick] [--postgresql]`

Builds conversations of 1-6 messages between the office and 300 customer
addresses (references, Outlook Thread-Index, subject-only replies), shuffles
them so that replies often arrive before their parents, inserts them in batches
the way the sync does, and times `thread_messages` alone. The table grows as it
runs, so the last batches show the cost on a filled database.
"""

from __future__ import annotations

import base64
import random
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import insert

from benchmarks.report import print_json, print_table
from mailservice.accounts.models import Account
from mailservice.config import Settings
from mailservice.contacts.models import Contact, MessageContact
from mailservice.db.migrate import upgrade_database
from mailservice.db.session import session_factory
from mailservice.messages.models import Message, MessageAddress, MessageReference
from mailservice.threads.subject import normalize_subject
from mailservice.threads.threader import thread_messages

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BATCH = 200
START = datetime(2026, 1, 1, tzinfo=timezone.utc)
TOPICS = ["Faktura", "Zamówienie", "Oferta", "Reklamacja", "Dostawa", "Umowa"]


def main(argv: list[str]) -> int:
    """Run the benchmark and print its table and JSON line."""
    total = 4_000 if "--quick" in argv else 40_000
    url, drop = _database("--postgresql" in argv)
    try:
        figures = _run(url, total)
    finally:
        drop()

    print_table(
        ["stage", "messages", "seconds", "msg/s"],
        [[name, n, secs, n / secs] for name, (n, secs) in figures.items()],
    )
    print_json({
        "benchmark": "threads",
        "database": url.split(":")[0],
        **{
            name.replace(", ", "_").replace(" ", "_") + "_msg_per_s": round(n / s)
            for name, (n, s) in figures.items()
        },
    })
    return 0


def _run(url: str, total: int) -> dict[str, tuple[int, float]]:
    settings = Settings(database_url=url, data_dir=Path(tempfile.mkdtemp()))
    session = session_factory(url)()
    contacts = _contacts(session)
    mails = _mails(total, contacts)

    wall: list[float] = []
    cpu: list[float] = []
    for start in range(0, len(mails), BATCH):
        ids = _insert(session, mails[start:start + BATCH])
        began, began_cpu = time.perf_counter(), time.process_time()
        thread_messages(session, settings, ids)
        wall.append(time.perf_counter() - began)
        cpu.append(time.process_time() - began_cpu)
        session.commit()
    session.close()

    # On a shared machine wall time swings with other load; this process's CPU
    # time does less (on SQLite it is nearly all the work).
    tenth = max(len(wall) // 10, 1)
    return {
        "all batches": (len(mails), sum(wall)),
        "last tenth": (tenth * BATCH, sum(wall[-tenth:])),
        "all batches, cpu": (len(mails), sum(cpu)),
        "last tenth, cpu": (tenth * BATCH, sum(cpu[-tenth:])),
    }


def _contacts(session) -> list[int]:
    # The office's own account: its address is in every message and shares nothing.
    session.add(Account(
        name="biuro", email="biuro@firma.pl", imap_host="127.0.0.1", imap_port=143,
        imap_security="none", username="biuro@firma.pl", secret_encrypted="x",
    ))
    rows = [{"name": f"Kontrahent {n}"} for n in range(100)]
    ids = list(session.scalars(insert(Contact).returning(Contact.id), rows))
    session.commit()
    return ids


def _mails(total: int, contacts: list[int]) -> list[dict]:
    """Conversations, shuffled so replies often come before their parents."""
    rng = random.Random(7)
    mails: list[dict] = []
    while len(mails) < total:
        mails.extend(_conversation(rng, len(mails), contacts))
    rng.shuffle(mails)
    return mails[:total]


def _conversation(rng: random.Random, serial: int, contacts: list[int]) -> list[dict]:
    customer = rng.randrange(300)
    subject = f"{rng.choice(TOPICS)} {serial}/2026"
    sent = START + timedelta(minutes=serial * 7)
    outlook = rng.random() < 0.3
    root = b"\x01" + rng.randbytes(5) + uuid.uuid4().bytes  # MS-OXOMSG header
    style = rng.random()  # references, subject-only replies, or both

    mails, ids = [], []
    for n in range(rng.randint(1, 6)):
        message_id = f"{uuid.uuid4().hex}@{'firma.pl' if n % 2 else 'k.example'}"
        refs = ids[-3:] if style > 0.2 or not ids else []
        mails.append({
            "message_id": message_id,
            "subject": ("Odp: " if n else "") + subject,
            "sent_at": sent + timedelta(hours=n * 5),
            "references": refs,
            "thread_index": _thread_index(root, n) if outlook else None,
            "customer": f"osoba{customer}@k{customer % 100}.example",
            "contact": contacts[customer % len(contacts)],
        })
        ids.append(message_id)
    return mails


def _thread_index(root: bytes, depth: int) -> str:
    return base64.b64encode(root + b"\x00\x01\x02\x03\x04" * depth).decode()[:100]


def _insert(session, mails: list[dict]) -> list[int]:
    rows = [{
        "identity_key": m["message_id"][:64], "raw_sha256": "x", "size": 1,
        "message_id_header": m["message_id"], "subject": m["subject"],
        "normalized_subject": normalize_subject(m["subject"]),
        "thread_index": m["thread_index"], "sent_at": m["sent_at"],
        "from_address": m["customer"],
    } for m in mails]
    ids = list(session.scalars(
        insert(Message).returning(Message.id, sort_by_parameter_order=True), rows
    ))
    references, addresses, links = [], [], []
    for message_id, mail in zip(ids, mails):
        references += [{"message_id": message_id, "referenced_id": r}
                       for r in mail["references"]]
        for role, address in (("from", mail["customer"]), ("to", "biuro@firma.pl")):
            addresses.append({
                "message_id": message_id, "role": role, "address": address,
                "address_norm": address, "domain": address.split("@")[1],
            })
        links.append({"message_id": message_id, "contact_id": mail["contact"],
                      "via": "address"})
    for model, batch in ((MessageReference, references),
                         (MessageAddress, addresses), (MessageContact, links)):
        if batch:
            session.execute(insert(model), batch)
    return ids


def _database(postgresql: bool):
    if not postgresql:
        folder = Path(tempfile.mkdtemp())
        url = f"sqlite:///{folder / 'bench.db'}"
        upgrade_database(url)
        return url, lambda: None

    import sqlalchemy as sa

    name = f"bench_threads_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(PG_URL).set(database=name).render_as_string(False)
    upgrade_database(url)

    def drop() -> None:
        from mailservice.db.session import get_engine

        get_engine(url).dispose()
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))

    return url, drop


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
