"""What comes back for a mailing, synced through a real Dovecot: a reply threads
into the sent message's thread and the contact's history, a bounce marks the
recipient, and the report says sent, bounced and replied."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from mailservice.accounts.service import add_account
from mailservice.contacts.history import contact_history
from mailservice.mailings.models import MailingRecipient
from mailservice.mailings.report import mailing_from_failures, report_rows
from mailservice.messages.models import Message
from mailservice.outbound.models import OutgoingMessage
from mailservice.outbound.sweeper import scan_returns
from mailservice.sync.engine import sync_account
from tests.mailings_support import make_contacts, make_mailing, run_to_end
from tests.outbound_support import fast_settings
from tests.servers.dovecot import HOST, dovecot  # noqa: F401  (fixture)
from tests.servers.smtp import smtp_sink  # noqa: F401  (fixture)
from tests.test_outbound_returns import _dsn, _reply

pytestmark = pytest.mark.imap


def _sent_ids(session, mailing_id: int) -> dict[str, str]:
    return dict(
        session.execute(
            select(MailingRecipient.address, OutgoingMessage.message_id_header)
            .join(OutgoingMessage, OutgoingMessage.id == MailingRecipient.outgoing_id)
            .where(MailingRecipient.mailing_id == mailing_id)
        ).all()
    )


def test_replies_and_bounces_to_a_mailing_reach_its_report_and_threads(
    dovecot, smtp_sink, settings, session
):
    settings = fast_settings(settings, sent_folder="")
    user = dovecot.add_user()
    dovecot.create_folder(user, "Sent")
    add_account(
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
    assert sync_account(settings, "biuro").ok
    contacts = make_contacts(session, 3)
    mailing_id = make_mailing(
        session, settings, account="biuro", subject="Potwierdzenie salda"
    )
    assert run_to_end(settings, mailing_id)
    sent = _sent_ids(session, mailing_id)

    dovecot.append_many(
        user,
        "INBOX",
        [
            _reply(
                "biuro0@klient0.test",
                "Re: Potwierdzenie salda",
                sent["biuro0@klient0.test"],
                1,
            ),
            _dsn("biuro2@klient2.test", sent["biuro2@klient2.test"]),
        ],
    )
    assert sync_account(settings, "biuro").ok
    scan_returns(settings)

    session.expire_all()
    outcomes = {row.address: row for row in report_rows(session, mailing_id)}
    assert outcomes["biuro0@klient0.test"].outcome == "sent"
    assert outcomes["biuro0@klient0.test"].replied_at is not None
    assert outcomes["biuro1@klient1.test"].replied_at is None
    assert outcomes["biuro2@klient2.test"].outcome == "bounced"

    ours = session.scalar(
        select(Message.thread_id).where(
            Message.message_id_header == sent["biuro0@klient0.test"]
        )
    )
    reply = session.scalar(
        select(Message.thread_id).where(
            Message.message_id_header == "reply-1@klient.test"
        )
    )
    assert ours is not None and reply == ours
    [thread] = contact_history(session, contacts[0])
    assert thread.thread_id == ours and thread.message_count == 2

    again = mailing_from_failures(session, settings, mailing_id)
    assert [
        r.address
        for r in session.scalars(
            select(MailingRecipient).where(MailingRecipient.mailing_id == again.id)
        )
    ] == ["biuro2@klient2.test"]
