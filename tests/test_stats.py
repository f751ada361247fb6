"""`stats` counts what is synced: quarantined, linked and unlinked messages."""

from mailservice.contacts.models import Contact, MessageContact
from mailservice.messages.models import QUARANTINED, Message
from mailservice.stats import collect_stats
from mailservice.threads.models import Thread


def _message(key: str, **fields) -> Message:
    return Message(identity_key=key, raw_sha256=key, size=10, **fields)


def test_stats_counts_linked_unlinked_and_quarantined(session):
    thread = Thread(subject="Faktura", message_count=2)
    contact = Contact(name="Budmat Sp. z o.o.")
    linked = _message("a")
    unlinked = _message("b")
    broken = _message("c", parse_status=QUARANTINED, parse_error="no header block")
    session.add_all([thread, contact, linked, unlinked, broken])
    session.flush()
    session.add(MessageContact(message_id=linked.id, contact_id=contact.id, via="address"))
    session.commit()

    stats = collect_stats(session)

    assert stats["messages"] == 3
    assert stats["linked_messages"] == 1
    assert stats["unlinked_messages"] == 2
    assert stats["quarantined"] == 1
    assert stats["threads"] == 1
    assert stats["contacts"] == 1
