"""Sending through the queue to a real SMTP server on loopback: the happy path."""

from __future__ import annotations

import email
from email import policy

from sqlalchemy import select

from mailservice.contacts.models import Contact, ContactAddress, MessageContact
from mailservice.messages.models import Message
from mailservice.outbound.models import SENT, OutgoingMessage
from mailservice.outbound.queueing import send_message
from tests.outbound_support import (
    add_sink_account,
    embedded_workers,
    fast_settings,
    wait_settled,
)
from tests.servers.smtp import SmtpSink, smtp_sink  # noqa: F401  (fixture)


def _contact(session, address: str) -> int:
    contact = Contact(name="Klient Sp. z o.o.")
    contact.addresses.append(ContactAddress(address=address, address_norm=address))
    session.add(contact)
    session.commit()
    return contact.id


def test_queued_message_is_sent_once_and_appears_in_thread_and_history(
    session, settings, smtp_sink
):
    settings = fast_settings(settings)
    account_id = add_sink_account(session, settings, smtp_sink.port)
    contact_id = _contact(session, "anna@klient.test")
    row = send_message(
        session,
        settings,
        account_id=account_id,
        to=["Anna Łęcka <anna@klient.test>"],
        subject="Faktura FS/1 – październik",
        body_html="<p>W załączeniu faktura.</p>",
        attachments=[("faktura żółta.pdf", "application/pdf", b"%PDF-1.4 test")],
        contact_id=contact_id,
    )
    session.commit()

    with embedded_workers(settings):
        assert wait_settled(settings)

    assert smtp_sink.message_ids() == [row.message_id_header]
    received = email.message_from_bytes(
        smtp_sink.received[0].data, policy=policy.default
    )
    assert received["Subject"] == "Faktura FS/1 – październik"
    assert received["Auto-Submitted"] == "auto-generated"
    assert [a.get_filename() for a in received.iter_attachments()] == [
        "faktura żółta.pdf"
    ]
    assert smtp_sink.received[0].rcpt_tos == ["anna@klient.test"]

    session.expire_all()
    sent = session.get(OutgoingMessage, row.id)
    assert sent.state == SENT and sent.attempts == 0 and sent.sent_at is not None
    message = session.get(Message, sent.message_row_id)
    assert message.message_id_header == row.message_id_header
    assert message.thread_id is not None
    linked = session.scalars(
        select(MessageContact.contact_id).where(MessageContact.message_id == message.id)
    ).all()
    assert linked == [contact_id]


def test_embedded_restart_sends_what_was_queued_before_it(session, settings, smtp_sink):
    settings = fast_settings(settings)
    account_id = add_sink_account(session, settings, smtp_sink.port)
    ids = [
        send_message(
            session,
            settings,
            account_id=account_id,
            to=["a@klient.test"],
            subject=f"m{n}",
            body_html="<p>x</p>",
        ).id
        for n in range(3)
    ]
    session.commit()  # the jobs went to a broker no worker serves: a "crash"
    assert smtp_sink.received == []

    with embedded_workers(settings, sweep_every=60):  # start-up sweep only
        assert wait_settled(settings, timeout=30)

    assert len(smtp_sink.received) == 3 and smtp_sink.duplicates() == {}
    session.expire_all()  # the rows were changed by the workers' sessions
    assert {session.get(OutgoingMessage, i).state for i in ids} == {SENT}


def test_password_login_is_used_when_the_server_asks(session, settings):
    settings = fast_settings(settings)
    with SmtpSink(users={"office@firma.test": "secret"}) as sink:
        account_id = add_sink_account(session, settings, sink.port)
        row = send_message(
            session,
            settings,
            account_id=account_id,
            to=["a@klient.test"],
            subject="x",
            body_html="<p>x</p>",
        )
        session.commit()
        with embedded_workers(settings):
            assert wait_settled(settings)
        assert sink.message_ids() == [row.message_id_header]


def test_refused_login_fails_the_message_with_the_reason(session, settings):
    settings = fast_settings(settings)
    with SmtpSink(users={"office@firma.test": "another"}) as sink:
        account_id = add_sink_account(session, settings, sink.port)
        row = send_message(
            session,
            settings,
            account_id=account_id,
            to=["a@klient.test"],
            subject="x",
            body_html="<p>x</p>",
        )
        session.commit()
        with embedded_workers(settings):
            assert wait_settled(settings)
    session.refresh(row)
    assert row.state == "failed" and "refused the login: 535" in row.last_error


def test_xoauth2_sends_the_bearer_token(session, settings):
    settings = fast_settings(settings)
    with SmtpSink(users={}) as sink:
        sink.handler.oauth_tokens.add("secret")  # the account's stored secret
        account_id = add_sink_account(
            session, settings, sink.port, auth_method="xoauth2"
        )
        row = send_message(
            session,
            settings,
            account_id=account_id,
            to=["a@klient.test"],
            subject="x",
            body_html="<p>x</p>",
        )
        session.commit()
        with embedded_workers(settings):
            assert wait_settled(settings)
        assert sink.message_ids() == [row.message_id_header]
