"""The embedded demo: sample mailbox served by pymap, SMTP into it, synced end to end.

Expected numbers come from the sample files (mailbox.csv, the Message-IDs in the
.eml files) and from the threads the samples were written to form, listed below.
"""

from __future__ import annotations

import imaplib
import smtplib
from collections import Counter
from email.parser import BytesHeaderParser

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from mailservice.accounts.models import Account
from mailservice.accounts.service import add_account
from mailservice.cli import demo as demo_cli
from mailservice.cli.main import cli
from mailservice.db.session import session_scope
from mailservice.demo.imap_server import PASSWORD, USER, DemoImapServer
from mailservice.demo.ports import free_port
from mailservice.demo.runner import run_demo
from mailservice.demo.samples import SAMPLES_DIR, sample_copies
from mailservice.demo.smtp_server import DemoSmtpServer
from mailservice.errors import DemoError
from mailservice.messages.models import Message

# The conversations the samples were written as, by file number. 07 and 08 share
# only a subject ("ODP:", Outlook without References); 16 is an auto-reply.
DESIGNED_THREADS = [
    {"01", "02", "03", "04"},  # BudMat: enquiry, offer, order, confirmation
    {"05", "06"},  # BudMat: invoice FS/2026/11/0142 and its receipt
    {"07", "08", "09", "10"},  # Stalprofil: order, Outlook replies
    {"11"},  # Stalprofil: purchase invoice
    {"12", "13", "14"},  # Jan Kowalski (gmail.com): tiles
    {"15", "16", "17"},  # TransLog: transport order, auto-reply, reply
    {"18", "19", "20"},  # GardenWelt: price list, "AW:" reply
    {"21", "22"},  # Bilans: ISO-8859-2 reminder and the reply
    {"23", "24", "25"},  # BudMat: complaint
    {"26"},  # Hydro-Serwis: unknown sender
    {"27"},  # newsletter
    {"28"},  # newsletter reminder
    {"29"},  # pallets pickup, to TransLog with BudMat in Cc
    {"30"},  # invoice to Jan Kowalski
    {"31"},  # invoice to GardenWelt
]
UNLINKED = {"26", "27", "28"}  # an unknown sender and a newsletter
UNKNOWN_SENDER = "marek.nowicki@hydroserwis.example"
CONTACT_THREADS = {
    "BudMat Sp. z o.o.": 4,
    "Stalprofil S.A.": 2,
    "TransLog Sp. z o.o.": 2,
    "GardenWelt GmbH": 2,
    'Biuro Rachunkowe "Bilans" Joanna Wójcik': 1,
    "Jan Kowalski": 2,
}


def _message_ids_by_number() -> dict[str, str]:
    ids = {}
    for path in sorted(SAMPLES_DIR.glob("*.eml")):
        with path.open("rb") as stream:
            message_id = BytesHeaderParser().parse(stream)["Message-ID"]
        # Stored as the id itself, without the angle brackets (RFC 5322 3.6.4).
        ids[path.name[:2]] = message_id.strip().strip("<>")
    return ids


def _threads_by_number(session) -> dict[str, int | None]:
    ids = _message_ids_by_number()
    thread_of = dict(
        session.execute(
            select(Message.message_id_header, Message.thread_id).where(
                Message.message_id_header.in_(ids.values())
            )
        ).all()
    )
    return {number: thread_of.get(message_id) for number, message_id in ids.items()}


def _partition(thread_by_number: dict[str, int | None]) -> list[set[str]]:
    groups: dict[int | None, set[str]] = {}
    for number, thread_id in thread_by_number.items():
        groups.setdefault(thread_id, set()).add(number)
    return sorted(groups.values(), key=min)


def test_demo_syncs_samples_into_designed_threads_and_contacts(settings):
    lines: list[str] = []

    report = run_demo(settings, echo=lines.append)

    files = {copy.file for copy in sample_copies()}
    assert report.new_messages == len(files) == 31
    assert report.folders == dict(Counter(copy.folder for copy in sample_copies()))
    assert report.stats["messages"] == len(files)
    assert report.stats["quarantined"] == 0
    assert report.stats["threads"] == len(DESIGNED_THREADS)
    assert report.stats["unlinked_messages"] == len(UNLINKED)
    assert report.stats["linked_messages"] == len(files) - len(UNLINKED)
    assert report.contacts == CONTACT_THREADS
    assert UNKNOWN_SENDER in [item.address for item in report.to_assign]
    assert any(UNKNOWN_SENDER in line for line in lines)

    with session_scope(settings.effective_database_url) as session:
        threads = _threads_by_number(session)
    assert None not in threads.values()
    assert _partition(threads) == DESIGNED_THREADS


def test_second_demo_run_adds_nothing_and_account_follows_new_ports(settings):
    first = run_demo(settings, echo=lambda line: None)
    imap_port, smtp_port = free_port(), free_port()

    second = run_demo(
        settings, imap_port=imap_port, smtp_port=smtp_port, echo=lambda line: None
    )

    assert second.new_messages == 0
    assert second.stats == first.stats
    assert second.folders == first.folders
    with session_scope(settings.effective_database_url) as session:
        account = session.scalar(select(Account).where(Account.name == "demo"))
        assert (account.imap_port, account.smtp_port) == (imap_port, smtp_port)


def test_demo_command_prints_folders_to_assign_and_stats(settings, monkeypatch):
    monkeypatch.setattr(demo_cli, "settings", lambda: settings)

    result = CliRunner().invoke(cli, ["demo"])

    assert result.exit_code == 0, result.output
    assert "Zamówienia" in result.output
    assert UNKNOWN_SENDER in result.output
    assert '"messages": 31' in result.output


def test_demo_refuses_an_unrelated_account_named_demo(settings):
    with session_scope(settings.effective_database_url) as session:
        add_account(
            session, settings, name="demo", imap_host="imap.firma.example",
            imap_port=993, imap_security="ssl", username="jan@firma.example",
            secret="x",
        )

    with pytest.raises(DemoError, match="not the demo mailbox"):
        run_demo(settings, echo=lambda line: None)


def test_demo_mailbox_holds_samples_with_folders_flags_and_dates(tmp_path):
    copies = sample_copies()

    with DemoImapServer(tmp_path / "imap") as server:
        client = server.connect()
        try:
            counts = {
                folder: client.folder_status(folder, ["MESSAGES"])[b"MESSAGES"]
                for folder in {copy.folder for copy in copies}
            }
            client.select_folder("INBOX", readonly=True)
            unseen = client.search(["UNSEEN"])
        finally:
            client.logout()

    assert counts == dict(Counter(copy.folder for copy in copies))
    inbox = [copy for copy in copies if copy.folder == "INBOX"]
    assert len(unseen) == sum(1 for copy in inbox if "\\Seen" not in copy.flags)


def test_demo_mailbox_survives_restart_with_same_uidvalidity(tmp_path):
    def uidvalidity() -> int:
        with DemoImapServer(tmp_path / "imap") as server:
            client = server.connect()
            try:
                return client.folder_status("INBOX", ["UIDVALIDITY"])[b"UIDVALIDITY"]
            finally:
                client.logout()

    assert uidvalidity() == uidvalidity()


def test_mail_sent_to_demo_smtp_arrives_in_imap_inbox(tmp_path):
    message = (
        b"From: Jan Kowalski <kowalski.remonty.demo@gmail.com>\r\n"
        b"To: biuro@hurtownia.example, Anna <anna.nowak@hurtownia.example>\r\n"
        b"Subject: Test SMTP -> IMAP\r\n"
        b"Message-ID: <smtp-to-imap-1@gmail.com>\r\n"
        b"\r\n"
        b"Czy dostaliscie?\r\n"
    )

    with DemoImapServer(tmp_path / "imap") as imap, DemoSmtpServer(imap) as smtp:
        with smtplib.SMTP(smtp.host, smtp.port, local_hostname="client.test") as sender:
            sender.login(USER, PASSWORD)
            sender.sendmail(
                "kowalski.remonty.demo@gmail.com",
                [USER, "anna.nowak@hurtownia.example"],
                message,
            )
        reader = imaplib.IMAP4(imap.host, imap.port)
        try:
            reader.login(USER, PASSWORD)
            reader.select("INBOX", readonly=True)
            _, found = reader.uid("SEARCH", "HEADER", "Message-ID", "smtp-to-imap-1")
            uids = found[0].split()
            _, fetched = reader.uid("FETCH", uids[0], "(FLAGS BODY.PEEK[])")
        finally:
            reader.logout()
        received = list(smtp.received)

    assert len(uids) == 1
    flags, body = fetched[0]
    assert b"\\Seen" not in flags
    assert body.startswith(b"Return-Path: <kowalski.remonty.demo@gmail.com>")
    assert b"Subject: Test SMTP -> IMAP" in body
    assert len(received) == 1
    assert received[0].delivered
    assert received[0].rcpt_tos == (USER, "anna.nowak@hurtownia.example")


def test_demo_smtp_refuses_a_wrong_password(tmp_path):
    with DemoImapServer(tmp_path / "imap") as imap, DemoSmtpServer(imap) as smtp:
        with smtplib.SMTP(smtp.host, smtp.port, local_hostname="client.test") as sender:
            with pytest.raises(smtplib.SMTPAuthenticationError):
                sender.login(USER, "wrong")
