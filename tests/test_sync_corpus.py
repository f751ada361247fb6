"""The whole shared corpus, delivered to Dovecot and synced: nothing lost, nothing
crashes; what cannot be parsed is kept raw and quarantined with its reason."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from mailservice.messages.models import QUARANTINED, Message, MessageLocation
from mailservice.store.raw import RawStore
from mailservice.sync.engine import sync_account
from tests.corpus_mailbox import load_corpus
from tests.servers.dovecot import dovecot  # noqa: F401  (fixture)
from tests.sync_support import add_imap_account, sync_settings

pytestmark = pytest.mark.imap


def test_every_corpus_message_syncs_and_keeps_its_raw_bytes(dovecot, settings, session):
    user = dovecot.add_user()
    load = load_corpus(dovecot, user)
    current = sync_settings(settings, fetch_batch_messages=50)
    add_imap_account(current, dovecot, user)

    report = sync_account(current, "biuro")
    again = sync_account(current, "biuro")

    assert load.rejected == [] and len(load.appended) >= 266
    assert report.ok and report.new_locations == len(load.appended)
    assert again.ok and again.new_locations == 0
    locations = session.scalars(select(MessageLocation)).all()
    uids = sorted(loc.uid for loc in locations)
    assert uids == list(range(1, len(load.appended) + 1))
    store = RawStore(current.effective_raw_store_dir)
    assert all(store.exists(loc.raw_sha256) for loc in locations)
    quarantined = session.scalars(
        select(Message).where(Message.parse_status == QUARANTINED)).all()
    assert all(message.parse_error for message in quarantined)
    assert session.scalar(select(func.count(Message.id))) <= len(load.appended)
    assert_no_duplicates_by_place(session)


def assert_no_duplicates_by_place(session) -> None:
    """One location per UID (the corpus holds copies sharing a Message-ID)."""
    places = session.execute(select(
        MessageLocation.folder_id, MessageLocation.uid, func.count()
    ).group_by(MessageLocation.folder_id, MessageLocation.uid)).all()
    assert [place for place in places if place[2] > 1] == []
