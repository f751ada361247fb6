"""Syncing real Dovecot mailboxes: folders, incremental runs, resets, server changes.

Every test runs on SQLite and PostgreSQL; the server-change tests also run on a
Dovecot that has no CONDSTORE/QRESYNC, so both change-detection paths are used.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from mailservice.accounts.models import Folder
from mailservice.messages.models import Message, MessageLocation
from mailservice.store.raw import RawStore
from mailservice.sync.engine import sync_account
from mailservice.sync.folders import list_remote_folders
from tests.servers.dovecot import dovecot, dovecot_plain  # noqa: F401  (fixtures)
from tests.sync_support import (
    add_imap_account,
    assert_no_duplicates,
    folder_row,
    live_uids,
    mail,
    message_count,
    sync_settings,
)

pytestmark = pytest.mark.imap


@pytest.fixture(params=["condstore", "plain"])
def server(request):
    """The test server with CONDSTORE/QRESYNC, then the one without."""
    return request.getfixturevalue("dovecot" if request.param == "condstore"
                                   else "dovecot_plain")


def test_full_sync_reads_every_folder_with_roles_and_polish_names(
    dovecot, settings, session
):
    user = dovecot.add_user()
    dovecot.append_many(user, "INBOX", [mail(1), mail(2), mail(3)])
    dovecot.append_many(user, "Wysłane", [mail(4), mail(5)])
    dovecot.append(user, "Kosz", mail(6))
    dovecot.append(user, "Projekty/Klient A", mail(7))
    dovecot.create_folder(user, "Szkice")
    current = sync_settings(settings)
    add_imap_account(current, dovecot, user)

    report = sync_account(current, "biuro")

    assert report.ok and report.new_messages == 7 and report.folders == 5
    folders = {f.name: f for f in session.scalars(select(Folder))}
    assert folders["Wysłane"].wire_name == "Wys&AUI-ane"
    assert {name: f.role for name, f in folders.items()} == {
        "INBOX": "inbox", "Wysłane": "sent", "Kosz": "trash", "Szkice": "drafts",
        "Projekty": None, "Projekty/Klient A": None,
    }
    assert live_uids(session, folders["Wysłane"]) == [1, 2]
    stored = session.scalar(select(Message).where(
        Message.message_id_header == "order-4@klient.pl"))
    assert RawStore(current.effective_raw_store_dir).read(stored.raw_sha256) == mail(4)
    assert stored.subject == "Zamówienie 4" and stored.from_address == "jan@klient.pl"


def test_second_sync_adds_nothing_and_selects_no_folder(dovecot, settings, session):
    user = dovecot.add_user()
    dovecot.append_many(user, "INBOX", [mail(n) for n in range(12)])
    dovecot.append(user, "Archiwum", mail(20))
    current = sync_settings(settings)
    add_imap_account(current, dovecot, user)
    sync_account(current, "biuro")

    again = sync_account(current, "biuro")

    assert again.ok and again.folders == 2
    assert again.folders_selected == again.new_locations == again.flags_changed == 0
    assert message_count(session) == 13
    assert_no_duplicates(session)


def test_new_mail_is_fetched_by_the_next_sync(server, settings, session):
    user = server.add_user()
    server.append_many(user, "INBOX", [mail(1), mail(2)])
    current = sync_settings(settings)
    add_imap_account(current, server, user)
    sync_account(current, "biuro")

    server.append_many(user, "INBOX", [mail(3), mail(4), mail(5)])
    report = sync_account(current, "biuro")

    assert report.new_messages == 3
    assert live_uids(session, folder_row(session, "biuro", "INBOX")) == [1, 2, 3, 4, 5]


def test_deleted_moved_and_reflagged_messages_follow_the_server(
    server, settings, session
):
    user = server.add_user()
    server.append_many(user, "INBOX", [mail(1), mail(2), mail(3), mail(4)])
    server.create_folder(user, "Archiwum")
    current = sync_settings(settings)
    add_imap_account(current, server, user)
    sync_account(current, "biuro")

    with server.client(user) as client:
        client.select_folder("INBOX")
        client.delete_messages([1])
        client.expunge()
        client.move([2], "Archiwum")
        client.add_flags([3], [b"\\Flagged", b"\\Answered"])
    report = sync_account(current, "biuro")

    session.rollback()
    assert report.ok and report.deleted == 2 and report.flags_changed == 1
    inbox = folder_row(session, "biuro", "INBOX")
    assert live_uids(session, inbox) == [3, 4]
    moved = session.scalar(select(Message).where(
        Message.message_id_header == "order-2@klient.pl"))
    places = {(loc.folder_id, loc.deleted_at is None) for loc in moved.locations}
    archive = folder_row(session, "biuro", "Archiwum")
    assert places == {(inbox.id, False), (archive.id, True)}
    flagged = session.scalar(select(MessageLocation).where(
        MessageLocation.folder_id == inbox.id, MessageLocation.uid == 3))
    assert flagged.flags == "\\Answered \\Flagged"
    # History stays: the deleted message keeps its row and its (deleted) location.
    assert message_count(session) == 4


def test_uidvalidity_reset_remaps_the_folder_without_duplicates(
    server, settings, session
):
    user = server.add_user()
    server.append_many(user, "Faktury", [mail(1), mail(2), mail(3)])
    current = sync_settings(settings)
    add_imap_account(current, server, user)
    sync_account(current, "biuro")
    old = folder_row(session, "biuro", "Faktury")
    old_uidvalidity, folder_id = old.uidvalidity, old.id
    ids_before = set(session.scalars(select(Message.id)))

    # Deleting and recreating a folder gives it a new UIDVALIDITY (RFC 3501 2.3.1.1).
    with server.client(user) as client:
        client.delete_folder("Faktury")
    server.append_many(user, "Faktury", [mail(3), mail(2), mail(9)])
    report = sync_account(current, "biuro")

    session.rollback()
    folder = folder_row(session, "biuro", "Faktury")
    assert report.ok and folder.id == folder_id
    assert folder.uidvalidity != old_uidvalidity
    assert report.new_messages == 1 and message_count(session) == 4
    assert set(session.scalars(select(Message.id))) > ids_before
    live = session.execute(
        select(MessageLocation.uidvalidity, Message.message_id_header)
        .join(Message)
        .where(MessageLocation.folder_id == folder_id,
               MessageLocation.deleted_at.is_(None))
    )
    assert sorted(tuple(row) for row in live) == [
        (folder.uidvalidity, f"order-{n}@klient.pl") for n in (2, 3, 9)
    ]
    gone = session.scalars(select(MessageLocation).join(Message).where(
        Message.message_id_header == "order-1@klient.pl")).all()
    assert [(loc.uidvalidity, loc.deleted_at is not None) for loc in gone] == [
        (old_uidvalidity, True)]
    assert_no_duplicates(session)


def test_renamed_folder_keeps_its_row_and_messages(dovecot, settings, session):
    user = dovecot.add_user()
    dovecot.append_many(user, "Projekty", [mail(1), mail(2)])
    current = sync_settings(settings)
    add_imap_account(current, dovecot, user)
    sync_account(current, "biuro")
    folder_id = folder_row(session, "biuro", "Projekty").id

    with dovecot.client(user) as client:
        client.rename_folder("Projekty", "Projekty 2024 ąę")
    report = sync_account(current, "biuro")

    session.rollback()
    renamed = session.get(Folder, folder_id)
    assert report.ok and report.new_locations == 0
    assert (renamed.name, renamed.deleted_at) == ("Projekty 2024 ąę", None)
    assert live_uids(session, renamed) == [1, 2]


def test_folder_deleted_on_server_marks_its_messages_deleted(
    dovecot, settings, session
):
    user = dovecot.add_user()
    dovecot.append_many(user, "Stare", [mail(1), mail(2)])
    dovecot.append(user, "INBOX", mail(3))
    current = sync_settings(settings)
    add_imap_account(current, dovecot, user)
    sync_account(current, "biuro")

    with dovecot.client(user) as client:
        client.delete_folder("Stare")
    sync_account(current, "biuro")

    session.rollback()
    old = folder_row(session, "biuro", "Stare")
    assert old.deleted_at is not None and live_uids(session, old) == []
    assert message_count(session) == 3


def test_sync_leaves_the_server_unchanged_and_messages_unseen(
    server, settings, session
):
    user = server.add_user()
    server.append_many(user, "INBOX", [mail(1), mail(2), mail(3)])
    current = sync_settings(settings)
    add_imap_account(current, server, user)
    with server.client(user) as client:
        before = client.folder_status("INBOX", ["MESSAGES", "UIDNEXT", "UNSEEN"])

    sync_account(current, "biuro")
    sync_account(current, "biuro")

    with server.client(user) as client:
        after = client.folder_status("INBOX", ["MESSAGES", "UIDNEXT", "UNSEEN"])
        client.select_folder("INBOX", readonly=True)
        flags = client.get_flags([1, 2, 3])
    assert after == before and before[b"UNSEEN"] == 3
    assert all(b"\\Seen" not in value for value in flags.values())


def test_same_message_in_two_accounts_is_one_message_with_two_locations(
    dovecot, settings, session
):
    first, second = dovecot.add_user(), dovecot.add_user()
    dovecot.append(first, "INBOX", mail(1))
    dovecot.append(second, "Sent", mail(1))
    dovecot.append(second, "INBOX", mail(2))
    current = sync_settings(settings)
    add_imap_account(current, dovecot, first, name="biuro")
    add_imap_account(current, dovecot, second, name="sprzedaz")

    sync_account(current, "biuro")
    sync_account(current, "sprzedaz")

    shared = session.scalars(select(Message).where(
        Message.message_id_header == "order-1@klient.pl")).all()
    assert len(shared) == 1 and len(shared[0].locations) == 2
    assert message_count(session) == 2


def test_plain_server_advertises_no_condstore(dovecot_plain):
    user = dovecot_plain.add_user()
    with dovecot_plain.client(user) as client:
        capabilities = set(client.capabilities())
    assert not capabilities & {b"CONDSTORE", b"QRESYNC", b"ESEARCH"}
    assert b"IDLE" in capabilities


def test_special_use_flag_from_the_server_wins_over_a_polish_name(dovecot):
    user = dovecot.add_user()
    for name in ("Sent", "Wysłane", "Spam"):
        dovecot.create_folder(user, name)

    with dovecot.client(user) as client:
        client.folder_encode = False  # as connect() sets it: wire names
        folders = list_remote_folders(client, condstore=True)

    roles = {folder.name: folder.role for folder in folders}
    assert roles == {"INBOX": "inbox", "Sent": "sent", "Wysłane": None, "Spam": "junk"}
    assert all(folder.uidvalidity and folder.uidnext == 1 for folder in folders)
