"""Helpers for the sync tests: messages to deliver, accounts on the test server,
and what the database holds afterwards."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from mailservice.accounts.models import Account, Folder
from mailservice.accounts.service import add_account
from mailservice.config import Settings
from mailservice.db.session import session_scope
from mailservice.messages.models import Message, MessageLocation
from tests.servers.dovecot import HOST, DovecotServer, MailUser, wait_until


def mail(
    number: int, subject: str | None = None, sender: str = "jan@klient.pl"
) -> bytes:
    """A small, distinct message with a Message-ID."""
    return (
        f"From: Jan Kowalski <{sender}>\r\n"
        f"To: biuro@firma.pl\r\n"
        f"Subject: {subject or f'Zamówienie {number}'}\r\n"
        f"Date: Mon, 5 Feb 2024 10:{number // 60 % 60:02d}:{number % 60:02d} +0100\r\n"
        f"Message-ID: <order-{number}@klient.pl>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
        "\r\n"
        f"Treść zamówienia {number}.\r\n"
    ).encode()


def sync_settings(settings: Settings, **changes) -> Settings:
    """The test settings with small fetch batches, so a few messages make batches."""
    values = {"fetch_batch_messages": 5, "poll_seconds": 3600}
    values.update(changes)
    return settings.model_copy(update=values)


def add_imap_account(
    settings: Settings,
    server: DovecotServer,
    user: MailUser,
    name: str = "biuro",
    password: str | None = None,
    **fields,
) -> None:
    """An account for `user` of the test server, committed."""
    values = dict(imap_host=HOST, imap_port=server.port, imap_security="none")
    values.update(fields)
    with session_scope(settings.effective_database_url) as session:
        add_account(
            session, settings, name=name, username=user.name,
            secret=password if password is not None else user.password, **values,
        )


def folder_row(session, account: str, name: str) -> Folder:
    """The folder of an account by its decoded name."""
    return session.scalar(
        select(Folder).join(Account).where(Account.name == account, Folder.name == name)
    )


def live_uids(session, folder: Folder) -> list[int]:
    """UIDs of the folder's messages that are still on the server, as recorded."""
    return sorted(session.scalars(
        select(MessageLocation.uid).where(
            MessageLocation.folder_id == folder.id,
            MessageLocation.deleted_at.is_(None),
        )
    ))


def message_count(session) -> int:
    """How many Message rows exist."""
    return session.scalar(select(func.count(Message.id)))


def assert_no_duplicates(session) -> None:
    """Every Message-ID once, every (folder, UIDVALIDITY, UID) once."""
    ids = Counter(session.scalars(
        select(Message.message_id_header).where(Message.message_id_header.is_not(None))
    ))
    assert [mid for mid, n in ids.items() if n > 1] == []
    places = Counter(session.execute(
        select(
            MessageLocation.folder_id, MessageLocation.uidvalidity, MessageLocation.uid
        )
    ).all())
    assert [place for place, n in places.items() if n > 1] == []


def wait_for_messages(session, count: int, what: str, seconds: float = 15.0) -> None:
    """Wait until another process or thread has committed `count` messages."""
    def arrived() -> bool:
        session.rollback()  # end the snapshot, see the latest commits
        return message_count(session) == count

    assert wait_until(arrived, seconds, step=0.1), f"waited {seconds} s for {what}"
