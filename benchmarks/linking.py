"""Linking on the sync hot path: messages per second for 200-message batches.

`python -m benchmarks linking [--quick] [--postgresql]`

2,000 contacts own two addresses each, half of them also a domain. Messages come
from a known address (some with a +tag), from an unknown person at a contact's
domain, or from a free-mail or unknown sender; each is addressed to the office
and copies a third party. They are inserted in batches the way the sync does and
`link_messages` alone is timed. Then every contact is relinked at once, as after
a contacts import, and timed per message relinked.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import func, insert, select

from benchmarks.report import print_json, print_table
from mailservice.accounts.models import Account
from mailservice.config import Settings
from mailservice.contacts.addresses import domain_of, normalize_address
from mailservice.contacts.linking import link_messages, relink_contacts
from mailservice.contacts.models import (
    Contact,
    ContactAddress,
    ContactDomain,
    MessageContact,
)
from mailservice.db.migrate import upgrade_database
from mailservice.db.session import get_engine, session_factory
from mailservice.messages.models import Message, MessageAddress

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BATCH = 200
CONTACTS = 2_000
START = datetime(2026, 1, 1, tzinfo=timezone.utc)


def main(argv: list[str]) -> int:
    """Run the benchmark and print its table and JSON line."""
    total = 4_000 if "--quick" in argv else 40_000
    url, drop = _database("--postgresql" in argv)
    try:
        figures, linked = _run(url, total)
    finally:
        drop()

    print_table(
        ["stage", "messages", "seconds", "msg/s"],
        [[name, n, secs, n / secs] for name, (n, secs) in figures.items()],
    )
    print_json({
        "benchmark": "linking",
        "database": url.split(":")[0],
        "linked_messages": linked,
        **{
            name.replace(", ", "_").replace(" ", "_") + "_msg_per_s": round(n / s)
            for name, (n, s) in figures.items()
        },
    })
    return 0


def _run(url: str, total: int) -> tuple[dict[str, tuple[int, float]], int]:
    settings = Settings(database_url=url, data_dir=Path(tempfile.mkdtemp()))
    session = session_factory(url)()
    contact_ids = _contacts(session)
    rng = random.Random(7)

    wall: list[float] = []
    cpu: list[float] = []
    for start in range(0, total, BATCH):
        ids = _insert(session, rng, start, min(BATCH, total - start))
        began, began_cpu = time.perf_counter(), time.process_time()
        link_messages(session, settings, ids)
        wall.append(time.perf_counter() - began)
        cpu.append(time.process_time() - began_cpu)
        session.commit()

    began = time.perf_counter()
    relinked = relink_contacts(session, settings, contact_ids)
    relink_seconds = time.perf_counter() - began
    session.commit()
    linked = session.scalar(select(func.count(func.distinct(MessageContact.message_id))))
    session.close()

    tenth = max(len(wall) // 10, 1)
    return {
        "batches": (total, sum(wall)),
        "last tenth": (tenth * BATCH, sum(wall[-tenth:])),
        "batches, cpu": (total, sum(cpu)),
        "relink all contacts": (relinked, relink_seconds),
    }, linked


def _contacts(session) -> list[int]:
    session.add(Account(
        name="biuro", email="biuro@firma.pl", imap_host="127.0.0.1", imap_port=143,
        imap_security="none", username="biuro@firma.pl", secret_encrypted="x",
    ))
    rows = [{"name": f"Kontrahent {n}"} for n in range(CONTACTS)]
    ids = list(session.scalars(
        insert(Contact).returning(Contact.id, sort_by_parameter_order=True), rows
    ))
    addresses = [
        {"contact_id": cid, "address": a, "address_norm": a}
        for n, cid in enumerate(ids)
        for a in (f"biuro@k{n}.example", f"jan.{n}@k{n}.example")
    ]
    domains = [
        {"contact_id": cid, "domain": f"k{n}.example"}
        for n, cid in enumerate(ids)
        if n % 2 == 0
    ]
    session.execute(insert(ContactAddress), addresses)
    session.execute(insert(ContactDomain), domains)
    session.commit()
    return ids


def _sender(rng: random.Random) -> str:
    n = rng.randrange(CONTACTS)
    kind = rng.random()
    if kind < 0.4:
        return f"jan.{n}@K{n}.example"
    if kind < 0.5:
        return f"biuro+faktury@k{n}.example"
    if kind < 0.75:
        return f"ktos{rng.randrange(1000)}@k{n}.example"
    return f"osoba{rng.randrange(5000)}@{rng.choice(['gmail.com', 'wp.pl', 'x.example'])}"


def _insert(session, rng: random.Random, serial: int, count: int) -> list[int]:
    rows = [{
        "identity_key": uuid.uuid4().hex, "raw_sha256": "x", "size": 1,
        "sent_at": START + timedelta(minutes=serial + n),
    } for n in range(count)]
    ids = list(session.scalars(
        insert(Message).returning(Message.id, sort_by_parameter_order=True), rows
    ))
    addresses = []
    for message_id in ids:
        pairs = (("from", _sender(rng)), ("to", "biuro@firma.pl"), ("cc", _sender(rng)))
        addresses += [{
            "message_id": message_id, "role": role, "address": address,
            "address_norm": normalize_address(address), "domain": domain_of(address),
        } for role, address in pairs]
    session.execute(insert(MessageAddress), addresses)
    return ids


def _database(postgresql: bool):
    if not postgresql:
        folder = Path(tempfile.mkdtemp())
        url = f"sqlite:///{folder / 'bench.db'}"
        upgrade_database(url)
        return url, lambda: None

    import sqlalchemy as sa

    name = f"bench_linking_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(PG_URL).set(database=name).render_as_string(False)
    upgrade_database(url)

    def drop() -> None:
        get_engine(url).dispose()
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    return url, drop


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
