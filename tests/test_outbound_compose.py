"""Drafts, replies and forwards, and per-account rate limits across workers."""

from __future__ import annotations

import email
import threading
import time
from email import policy

import pytest
from sqlalchemy import func, select

from mailservice.db.session import session_factory
from mailservice.errors import OutboundError
from mailservice.messages.models import Message, MessageReference
from mailservice.outbound.answering import forward_draft, reply_draft
from mailservice.outbound.claims import claim_batch
from mailservice.outbound.compose import add_attachment, create_draft, update_draft
from mailservice.outbound.models import QUEUED, SENT, OutgoingMessage, SendingPolicy
from mailservice.outbound.queueing import queue_draft, send_message
from mailservice.parsing.headers import parse_headers
from mailservice.store.raw import RawStore
from mailservice.threads.threader import thread_messages
from tests.outbound_support import (
    add_sink_account,
    embedded_workers,
    fast_settings,
    wait_settled,
)
from tests.servers.smtp import smtp_sink  # noqa: F401  (fixture)

PARENT = (
    "From: Anna Kowalska <anna@klient.test>\r\n"
    "Reply-To: ksiegowosc@klient.test\r\n"
    "To: office@firma.test, Piotr <piotr@klient.test>\r\n"
    "Cc: marek@klient.test\r\n"
    "Subject: Pytanie o fakturę\r\n"
    "Date: Mon, 30 Nov 2026 10:00:00 +0100\r\n"
    "Message-ID: <parent@klient.test>\r\n"
    "References: <root@klient.test>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
    "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    "Czy faktura jest gotowa? <script>x</script>\r\n"
    "--b\r\nContent-Type: application/pdf\r\n"
    "Content-Disposition: attachment; filename=zamowienie.pdf\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQ=\r\n--b--\r\n"
).encode()


def _parent(session, settings) -> Message:
    sha = RawStore(settings.effective_raw_store_dir).put(PARENT)
    parsed = parse_headers(PARENT, None)
    message = Message(
        identity_key="parent-key",
        raw_sha256=sha,
        size=len(PARENT),
        message_id_header="parent@klient.test",
        subject=parsed.subject,
        from_name="Anna Kowalska",
        from_address="anna@klient.test",
        sent_at=parsed.sent_at,
        body_text="Czy faktura jest gotowa? <script>x</script>",
    )
    session.add(message)
    session.flush()
    session.add(
        MessageReference(message_id=message.id, referenced_id="root@klient.test")
    )
    thread_messages(session, settings, [message.id])
    session.commit()
    return message


def test_draft_autosave_changes_only_given_fields(session, settings, smtp_sink):
    settings = fast_settings(settings)
    account_id = add_sink_account(session, settings, smtp_sink.port)
    draft = create_draft(
        session, settings, account_id=account_id, to=["a@klient.test"], subject="Szkic"
    )

    update_draft(session, draft.id, body_html="<p>pisze...</p>")
    update_draft(session, draft.id, cc=["b@klient.test"])

    assert draft.subject == "Szkic" and draft.body_html == "<p>pisze...</p>"
    assert [(r.role, r.address) for r in draft.recipients] == [
        ("to", "a@klient.test"),
        ("cc", "b@klient.test"),
    ]


def test_reply_all_goes_to_reply_to_and_others_and_joins_the_thread(
    session, settings, smtp_sink
):
    settings = fast_settings(settings)
    account_id = add_sink_account(session, settings, smtp_sink.port)
    parent = _parent(session, settings)

    draft = reply_draft(
        session, settings, parent.id, account_id=account_id, reply_all=True
    )
    update_draft(session, draft.id, body_html="<p>Tak, w załączeniu.</p>")
    queue_draft(session, settings, draft.id)
    session.commit()
    with embedded_workers(settings):
        assert wait_settled(settings)

    assert draft.subject == "Re: Pytanie o fakturę"
    assert [(r.role, r.address) for r in draft.recipients] == [
        ("to", "ksiegowosc@klient.test"),
        ("cc", "piotr@klient.test"),
        ("cc", "marek@klient.test"),
    ]
    data = smtp_sink.received[0].data
    assert b"In-Reply-To: <parent@klient.test>" in data
    assert b"References: <root@klient.test> <parent@klient.test>" in data
    sent_html = email.message_from_bytes(data, policy=policy.default).get_body(
        ("html",)
    )
    assert "<script>" not in sent_html.get_content()
    assert "Czy faktura jest gotowa?" in sent_html.get_content()
    session.expire_all()
    sent = session.get(OutgoingMessage, draft.id)
    assert session.get(Message, sent.message_row_id).thread_id == parent.thread_id


def test_forward_carries_the_original_attachments(session, settings, smtp_sink):
    settings = fast_settings(settings)
    account_id = add_sink_account(session, settings, smtp_sink.port)
    parent = _parent(session, settings)

    draft = forward_draft(session, settings, parent.id, account_id=account_id)

    assert draft.subject == "Fwd: Pytanie o fakturę" and draft.in_reply_to is None
    assert [(a.filename, a.size) for a in draft.attachments] == [("zamowienie.pdf", 8)]
    add_attachment(session, settings, draft.id, "logo.png", "image/png", b"PNG", "logo")
    assert len(draft.attachments) == 2


def test_rate_limit_per_minute_holds_across_concurrent_claimers(
    session, settings, smtp_sink
):
    settings = fast_settings(settings, send_batch_size=3)
    account_id = add_sink_account(session, settings, smtp_sink.port)
    session.add(SendingPolicy(account_id=account_id, per_minute=7, per_hour=100))
    for number in range(20):
        send_message(
            session,
            settings,
            account_id=account_id,
            to=["a@klient.test"],
            subject=f"m{number}",
            body_html="<p>x</p>",
        )
    session.commit()
    claimed: list[int] = []

    def claimer(name: str) -> None:
        with session_factory(settings.effective_database_url)() as own:
            for _ in range(5):
                claimed.extend(claim_batch(own, settings, account_id, name).ids)

    threads = [threading.Thread(target=claimer, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(claimed) == 7 and len(set(claimed)) == 7


def test_rate_limited_account_sends_up_to_the_limit_and_keeps_the_rest_queued(
    session, settings, smtp_sink
):
    settings = fast_settings(settings)
    account_id = add_sink_account(session, settings, smtp_sink.port)
    session.add(SendingPolicy(account_id=account_id, per_minute=3))
    for number in range(5):
        send_message(
            session,
            settings,
            account_id=account_id,
            to=["a@klient.test"],
            subject=f"m{number}",
            body_html="<p>x</p>",
        )
    session.commit()

    with embedded_workers(settings):
        assert smtp_sink.wait_for(3, timeout=10)
        time.sleep(1.0)

    assert len(smtp_sink.received) == 3
    by_state = dict(
        session.execute(
            select(OutgoingMessage.state, func.count()).group_by(OutgoingMessage.state)
        ).all()
    )
    assert by_state == {SENT: 3, QUEUED: 2}


def test_automatic_mail_never_answers_an_auto_reply(session, settings, smtp_sink):
    settings = fast_settings(settings)
    account_id = add_sink_account(session, settings, smtp_sink.port)
    parent = _parent(session, settings)
    parent.is_auto_reply = True  # e.g. a vacation notice

    draft = reply_draft(session, settings, parent.id, account_id=account_id)
    draft.automatic = True
    with pytest.raises(OutboundError, match="never answered automatically"):
        queue_draft(session, settings, draft.id)

    draft.automatic = False  # a person may still answer it
    assert queue_draft(session, settings, draft.id).state == QUEUED
