"""The real-world corpus threads without error, and the same in any arrival order."""

import hashlib
from collections import defaultdict
from datetime import datetime, timezone

from sqlalchemy import delete, func, select, update

from mailservice.accounts.models import Account, Folder
from mailservice.messages.models import Message
from mailservice.parsing.headers import parse_headers
from mailservice.sync.fetch import FetchedMessage
from mailservice.sync.ingest import ingest_batch
from mailservice.threads.models import Thread
from mailservice.sync.identity import body_digest
from mailservice.threads.threader import thread_messages
from tests.corpus import corpus_messages

ARRIVED = datetime(2026, 11, 2, tzinfo=timezone.utc)


def _fetched(uid: int, raw: bytes) -> FetchedMessage:
    headers = parse_headers(raw, ARRIVED)
    lines = raw.split(b"\n")
    date = next((line for line in lines if line.lower().startswith(b"date:")), b"")
    return FetchedMessage(
        uid=uid, flags="", modseq=None, internal_date=ARRIVED, size=len(raw),
        sha256=hashlib.sha256(raw).hexdigest(), headers=headers,
        date_header=date.decode("latin-1").strip(), body_digest=body_digest(raw),
    )


def _ingest_corpus(session, settings) -> None:
    account = Account(name="korpus", email="biuro@firma.pl", imap_host="127.0.0.1",
                      imap_port=143, imap_security="none", username="biuro@firma.pl",
                      secret_encrypted="x")
    session.add(account)
    session.flush()
    folder = Folder(account_id=account.id, wire_name="INBOX", name="INBOX",
                    uidvalidity=1)
    session.add(folder)
    session.flush()

    fetched = [_fetched(uid, raw) for uid, (_, raw) in enumerate(corpus_messages(), 1)]
    for start in range(0, len(fetched), 25):
        ingest_batch(session, settings, folder, fetched[start:start + 25])
        session.commit()


def _partition(session) -> set[frozenset[str]]:
    threads: dict[int, set[str]] = defaultdict(set)
    rows = session.execute(select(Message.identity_key, Message.thread_id))
    for key, thread_id in rows:
        threads[thread_id].add(key)
    assert None not in threads, "every message is in a thread"
    return {frozenset(keys) for keys in threads.values()}


def test_corpus_threads_the_same_in_reverse_arrival_order(session, settings):
    _ingest_corpus(session, settings)
    first = _partition(session)
    counted = session.scalar(select(func.sum(Thread.message_count)))
    stored = session.scalar(select(func.count(Message.id)))

    session.execute(update(Message).values(thread_id=None))
    session.execute(delete(Thread))
    session.commit()
    ids = list(session.scalars(select(Message.id).order_by(Message.id.desc())))
    for start in range(0, len(ids), 7):
        thread_messages(session, settings, ids[start:start + 7])
        session.commit()

    assert counted == stored
    assert _partition(session) == first
    assert any(len(thread) > 1 for thread in first)
