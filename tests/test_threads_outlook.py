"""Outlook's Thread-Index: replies without References still find their thread."""

import base64

import pytest
from sqlalchemy import event

from mailservice.threads.batch import ThreadedMessage
from mailservice.threads.links import thread_index_links
from mailservice.threads.thread_index import (
    thread_index_key,
    thread_index_root,
)
from tests.threads_builder import STRANGER, Mail, Mailbox, day

# A header block as Outlook writes it (taken from a real message in the corpus).
ROOT = "AdEqghoDvV1n2Xf5TxaB3f4CW9x1lw=="
OTHER_ROOT = "AcpZlFLF/Y9EfcC0QZKKEuUFm2Snqw=="


def _child(index: str, block: bytes = b"\x00\x00\x4f\x12\x35") -> str:
    """The Thread-Index of a reply: the parent's bytes and one 5-byte block."""
    return base64.b64encode(base64.b64decode(index) + block).decode()


def test_root_is_the_22_byte_header_block():
    root = thread_index_root(ROOT)

    assert len(root) == 22 and root[0] == 0x01
    assert thread_index_root(_child(_child(ROOT))) == root


def test_folded_header_with_whitespace_still_parses():
    folded = _child(ROOT)[:20] + "\r\n " + _child(ROOT)[20:]

    assert thread_index_root(folded) == thread_index_root(ROOT)
    assert thread_index_key(folded) == thread_index_key(ROOT)


@pytest.mark.parametrize(
    "value", [None, "", "short", "not base64 at all !!!!!!!!!!!!!!"]
)
def test_values_that_are_no_thread_index_give_no_root(value):
    assert thread_index_root(value) is None
    assert thread_index_key(value) is None


def test_every_reply_level_shares_the_lookup_key():
    keys = {thread_index_key(v) for v in (ROOT, _child(ROOT), _child(_child(ROOT)))}

    assert len(keys) == 1
    assert keys != {thread_index_key(OTHER_ROOT)}


@pytest.fixture
def box(session, settings):
    return Mailbox(session, settings)


def test_outlook_reply_without_references_joins_by_thread_index(box):
    box.arrive(Mail("question", subject="Zapytanie o rabat", message_id="q@firma.pl",
                    thread_index=ROOT))
    # A stranger, another subject, no References: only the Thread-Index joins it.
    box.arrive(Mail("reply", subject="Rabat 5%", message_id="r@budmat.pl",
                    sender=STRANGER, thread_index=_child(ROOT), sent_at=day(60)))

    assert box.thread_of("reply") == box.thread_of("question")


def test_thread_index_joins_siblings_arriving_before_their_parent(box):
    first, second = b"\x00\x00\x00\x00\x01", b"\x00\x00\x00\x00\x02"
    box.arrive(Mail("one", subject="A", thread_index=_child(ROOT, first)))
    box.arrive(Mail("two", subject="B", thread_index=_child(ROOT, second)))
    box.arrive(Mail("root", subject="C", thread_index=ROOT))

    assert box.thread_of("one") == box.thread_of("two") == box.thread_of("root")


def test_other_conversation_does_not_join(box):
    box.arrive(Mail("first", subject="A", thread_index=ROOT))
    box.arrive(Mail("second", subject="B", thread_index=_child(OTHER_ROOT)))

    assert box.thread_of("first") != box.thread_of("second")


def test_same_first_29_characters_but_other_root_does_not_join(box):
    # Byte 21 differs only in its low two bits: same lookup key, other conversation.
    raw = bytearray(base64.b64decode(ROOT))
    raw[21] ^= 0x01
    near = base64.b64encode(bytes(raw)).decode()
    assert thread_index_key(near) == thread_index_key(ROOT)

    box.arrive(Mail("first", subject="A", thread_index=ROOT))
    box.arrive(Mail("second", subject="B", thread_index=near))

    assert box.thread_of("first") != box.thread_of("second")


def test_thread_index_lookup_uses_the_root_index(session, db_url):
    statements = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    connection = session.connection()
    event.listen(connection, "before_cursor_execute", remember)
    batch = {1: ThreadedMessage(1, None, None, None, None, None, ROOT, None)}
    thread_index_links(session, batch)
    event.remove(connection, "before_cursor_execute", remember)

    statement, parameters = statements[-1]
    cursor = connection.connection.cursor()
    if db_url.startswith("sqlite"):
        cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
    else:
        # A tiny table is scanned anyway; ask whether the index can serve at all.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + statement, parameters)
    assert "ix_messages_thread_index_root" in str(cursor.fetchall())
