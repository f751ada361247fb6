"""The live watch: new Inbox mail comes by IDLE, other folders by polling."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from mailservice.sync.watch import LoginBackoff, run_watch
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


def test_refused_login_backs_off_while_other_accounts_keep_syncing(
    dovecot, settings, session, caplog
):
    good, bad = dovecot.add_user(), dovecot.add_user()
    current = sync_settings(settings, poll_seconds=1)
    add_imap_account(current, dovecot, good, name="biuro")
    add_imap_account(current, dovecot, bad, name="handel", password="złe-hasło")
    stop = threading.Event()
    watch = threading.Thread(target=run_watch, args=(current, stop))
    caplog.set_level(logging.WARNING, logger="mailservice.sync.watch")
    watch.start()
    try:
        dovecot.append(good, "INBOX", mail(1))
        wait_for_messages(session, 1, "the good account's first message")
        time.sleep(4)  # four polls: each would retry the refused login
        dovecot.append(good, "Archiwum", mail(2))
        wait_for_messages(session, 2, "the good account polled meanwhile")
    finally:
        stop.set()
        watch.join(timeout=30)

    lines = [record.getMessage() for record in caplog.records]
    refusals = [line for line in lines if "login refused" in line]
    assert refusals == ["login refused account=handel failures=1 next try in 30s"]


def test_login_backoff_doubles_and_resets_after_success():
    backoff = LoginBackoff(first_seconds=10)

    waits = [backoff.refused("biuro") for _ in range(3)]
    assert waits == [10, 20, 40] and not backoff.due("biuro")

    backoff.succeeded("biuro")
    assert backoff.due("biuro")
