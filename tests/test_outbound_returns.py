"""What comes back, synced through a real Dovecot: replies (also to a Message-ID
the provider rewrote, and with no references at all), bounces of our own make and
from the corpus, and auto-replies, each landing in the thread of the message we
sent; and the Sent-folder copy that the next sync does not duplicate."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from mailservice.accounts.models import Folder
from mailservice.accounts.service import add_account
from mailservice.messages.models import Message, MessageLocation
from mailservice.outbound.bounces import HARD, SOFT, read_bounce
from mailservice.outbound.models import BouncingAddress, OutgoingAlias, OutgoingMessage
from mailservice.outbound.queueing import send_message
from mailservice.outbound.sweeper import scan_returns
from mailservice.sync.engine import sync_account
from tests.corpus import CORPUS_DIR
from tests.outbound_support import embedded_workers, fast_settings, wait_settled
from tests.servers.dovecot import HOST, dovecot  # noqa: F401  (fixture)
from tests.servers.smtp import smtp_sink  # noqa: F401  (fixture)

pytestmark = pytest.mark.imap

BOUNCES = CORPUS_DIR / "flanker" / "tests" / "fixtures" / "messages" / "bounce"


def _reply(
    sender: str, subject: str, in_reply_to: str | None, number: int, extra: str = ""
) -> bytes:
    refs = (
        f"In-Reply-To: <{in_reply_to}>\r\nReferences: <{in_reply_to}>\r\n"
        if in_reply_to
        else ""
    )
    return (
        f"From: <{sender}>\r\nTo: biuro@firma.test\r\nSubject: {subject}\r\n"
        f"Date: Thu, 3 Dec 2026 15:0{number}:00 +0100\r\n"
        f"Message-ID: <reply-{number}@klient.test>\r\n{refs}{extra}"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "Dziękuję.\r\n"
    ).encode()


def _dsn(recipient: str, original_id: str) -> bytes:
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.klient.test>\r\n"
        "To: biuro@firma.test\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "Date: Thu, 3 Dec 2026 15:09:00 +0100\r\nMessage-ID: <dsn-1@mx.klient.test>\r\n"
        "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/report; report-type=delivery-status;"
        " boundary=B\r\n\r\n"
        "--B\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.klient.test\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        f"Diagnostic-Code: smtp; 550 5.1.1 <{recipient}>: User unknown\r\n\r\n"
        "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: biuro@firma.test\r\nTo: {recipient}\r\n"
        f"Message-ID: <{original_id}>\r\n\r\n"
        "--B--\r\n"
    ).encode()


def _send(session, settings, account_id, to: str, subject: str) -> OutgoingMessage:
    row = send_message(
        session,
        settings,
        account_id=account_id,
        to=[to],
        subject=subject,
        body_html=f"<p>{subject}</p>",
    )
    session.commit()
    return row


def _thread_of(session, message_id_header: str) -> int | None:
    return session.scalar(
        select(Message.thread_id).where(Message.message_id_header == message_id_header)
    )


def test_replies_bounces_and_auto_replies_synced_back_land_in_our_threads(
    dovecot, smtp_sink, settings, session
):
    settings = fast_settings(settings, sent_folder="")
    user = dovecot.add_user()
    dovecot.create_folder(user, "Sent")
    account = add_account(
        session,
        settings,
        name="biuro",
        imap_host=HOST,
        imap_port=dovecot.port,
        imap_security="none",
        username=user.name,
        secret=user.password,
        email="biuro@firma.test",
        smtp_host="127.0.0.1",
        smtp_port=smtp_sink.port,
        smtp_security="none",
    )
    session.commit()
    assert sync_account(settings, "biuro").ok  # learns the Sent folder (\Sent)
    smtp_sink.handler.provider_id_domain = "provider.test"  # rewrites our ids

    reply_to = _send(session, settings, account.id, "anna@klient.test", "Oferta 1")
    rewritten = _send(session, settings, account.id, "piotr@klient.test", "Oferta 2")
    unreferenced = _send(
        session, settings, account.id, "ewa@klient.test", "Cennik 2027"
    )
    bounced = _send(session, settings, account.id, "gone@klient.test", "Faktura 4")
    corpus = _send(session, settings, account.id, "noname@example.com", "Faktura 5")
    vacation = _send(session, settings, account.id, "marek@klient.test", "Faktura 6")
    with embedded_workers(settings):
        assert wait_settled(settings)
    session.expire_all()
    provider_id = session.scalar(
        select(OutgoingAlias.message_id_header).where(
            OutgoingAlias.outgoing_id == rewritten.id
        )
    )
    assert provider_id and provider_id.endswith("@provider.test")
    assert all(
        session.get(OutgoingMessage, r.id).sent_copy_appended
        for r in (reply_to, rewritten, bounced)
    )

    dovecot.append_many(
        user,
        "INBOX",
        [
            _reply("anna@klient.test", "Re: Oferta 1", reply_to.message_id_header, 1),
            _reply("piotr@klient.test", "RE: Oferta 2", provider_id, 2),
            _reply("ewa@klient.test", "Odp: Cennik 2027", None, 3),
            _dsn("gone@klient.test", bounced.message_id_header),
            (BOUNCES / "office365.eml").read_bytes(),
            _reply(
                "marek@klient.test",
                "Automatic reply: Faktura 6",
                vacation.message_id_header,
                6,
                "Auto-Submitted: auto-replied\r\nX-Autoreply: yes\r\n",
            ),
        ],
    )
    assert sync_account(settings, "biuro").ok
    # Replies naming our own Message-ID thread by themselves; the other four
    # (provider id, no references, two bounces) needed tying.
    assert scan_returns(settings) == 4

    session.expire_all()
    for sent, reply_id in (
        (reply_to, "reply-1@klient.test"),
        (rewritten, "reply-2@klient.test"),
        (unreferenced, "reply-3@klient.test"),
        (bounced, "dsn-1@mx.klient.test"),
        (vacation, "reply-6@klient.test"),
    ):
        ours = _thread_of(session, sent.message_id_header)
        assert ours is not None and _thread_of(session, reply_id) == ours, reply_id

    auto = session.scalar(
        select(Message).where(Message.message_id_header == "reply-6@klient.test")
    )
    assert auto.is_auto_reply
    human = session.scalar(
        select(Message).where(Message.message_id_header == "reply-1@klient.test")
    )
    assert not human.is_auto_reply

    gone = session.get(OutgoingMessage, bounced.id).recipients[0]
    assert gone.bounce == HARD and gone.bounce_message_id is not None
    marks = dict(
        session.execute(
            select(BouncingAddress.address_norm, BouncingAddress.kind)
        ).all()
    )
    assert marks == {"gone@klient.test": HARD, "noname@example.com": HARD}
    assert session.get(OutgoingMessage, corpus.id).recipients[0].bounce == HARD

    # The Sent copies synced back are the rows recorded at send time.
    sent_folder = session.scalar(
        select(Folder).where(Folder.account_id == account.id, Folder.role == "sent")
    )
    in_sent = session.scalars(
        select(MessageLocation.message_id).where(
            MessageLocation.folder_id == sent_folder.id
        )
    ).all()
    recorded = [
        session.get(OutgoingMessage, r.id).message_row_id
        for r in (reply_to, rewritten, unreferenced, bounced, corpus, vacation)
    ]
    assert sorted(in_sent) == sorted(recorded)
    per_id = session.execute(
        select(Message.message_id_header, func.count())
        .where(Message.message_id_header.like("ms.%"))
        .group_by(Message.message_id_header)
    ).all()
    assert len(per_id) == 6 and all(count == 1 for _, count in per_id)


@pytest.mark.parametrize(
    "name, recipient, kind",
    [
        ("mailbox-full.eml", "user@aol.com", HARD),
        ("no-mx.eml", "user@example.com", SOFT),
        ("delayed.eml", "foo@example.com", SOFT),
        ("gmail-invalid-address.eml", "awfawfawfawfawfaw@someserverhere.com", HARD),
    ],
)
def test_corpus_bounces_name_the_recipient_and_kind(name, recipient, kind):
    bounce = read_bounce((BOUNCES / name).read_bytes())
    assert bounce is not None and bounce.recipients == {recipient: kind}


def test_multi_recipient_report_and_base64_fields_are_read():
    mikel = CORPUS_DIR / "mikel-mail" / "spec" / "fixtures" / "emails"
    multi = read_bounce(
        (mikel / "multipart_report_emails" / "multi_address_bounce1.eml").read_bytes()
    )
    mimekit = read_bounce(
        (
            CORPUS_DIR
            / "MimeKit"
            / "UnitTests"
            / "TestData"
            / "messages"
            / "bounce.txt"
        ).read_bytes()
    )

    assert len(multi.recipients) == 5 and set(multi.recipients.values()) == {HARD}
    assert mimekit.recipients == {"netec.test@netecgc.com": HARD}
    assert "User unknown" in mimekit.reasons["netec.test@netecgc.com"]


def test_ordinary_replies_in_the_corpus_are_not_bounces():
    for path in sorted((CORPUS_DIR / "talon").rglob("*.eml")):
        assert read_bounce(path.read_bytes()) is None, path.name
