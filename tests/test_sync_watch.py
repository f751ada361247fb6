"""The live watch: new Inbox mail comes by IDLE, other folders by polling."""

from __future__ import annotations

import threading

import pytest

from mailservice.sync.watch import run_watch
from tests.servers.dovecot import dovecot  # noqa: F401  (fixture)
from tests.sync_support import (
    add_imap_account,
    mail,
    sync_settings,
    wait_for_messages,
)

pytestmark = pytest.mark.imap


def test_watch_polls_folders_other_than_the_inbox_and_stops_when_asked(
    dovecot, settings, session
):
    user = dovecot.add_user()
    dovecot.append(user, "INBOX", mail(1))
    current = sync_settings(settings, poll_seconds=1)
    add_imap_account(current, dovecot, user)
    stop = threading.Event()
    watch = threading.Thread(target=run_watch, args=(current, stop))
    watch.start()
    try:
        wait_for_messages(session, 1, "the first sync")
        dovecot.append(user, "Archiwum", mail(2))
        wait_for_messages(session, 2, "a poll to find the Archiwum mail")
    finally:
        stop.set()
        watch.join(timeout=30)
    assert not watch.is_alive()
