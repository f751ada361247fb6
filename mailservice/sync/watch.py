"""The live watch behind `mailservice serve`: IDLE on each Inbox, poll the rest.

One thread per account holds an IDLE on its Inbox (RFC 2177) and asks for a sync
of that account when the server reports a change; every `poll_seconds` all
accounts are synced, which covers the other folders. The syncs themselves run
one at a time in the calling thread, so two never write the same rows at once.
"""

from __future__ import annotations

import logging
import queue
import threading
import time

from mailservice.accounts.service import get_account, list_accounts
from mailservice.config import Settings
from mailservice.db.session import session_factory
from mailservice.errors import ImapLoginError, MailserviceError, SecretKeyError
from mailservice.sync.engine import sync_account
from mailservice.sync.imap import close, connect, imap_errors

log = logging.getLogger(__name__)

# How often a waiting thread looks at the stop event.
TICK_SECONDS = 1.0
# After a failed IDLE connection, wait this long before trying again.
RETRY_SECONDS = 30.0
# A refused login waits twice as long each time, up to this; providers lock
# accounts that keep failing.
MAX_LOGIN_BACKOFF_SECONDS = 3600.0


class LoginBackoff:
    """When each account whose login was refused may be tried again."""

    def __init__(self, first_seconds: float = RETRY_SECONDS) -> None:
        self.first_seconds = first_seconds
        self._failures: dict[str, int] = {}
        self._next_try: dict[str, float] = {}
        self._lock = threading.Lock()

    def due(self, name: str) -> bool:
        """Whether `name` may be tried now."""
        with self._lock:
            return time.monotonic() >= self._next_try.get(name, 0.0)

    def refused(self, name: str) -> float:
        """Record a refused login; the seconds until the next try."""
        with self._lock:
            failures = self._failures.get(name, 0) + 1
            self._failures[name] = failures
            wait = min(self.first_seconds * 2 ** (failures - 1),
                       MAX_LOGIN_BACKOFF_SECONDS)
            self._next_try[name] = time.monotonic() + wait
        log.warning("login refused account=%s failures=%s next try in %.0fs",
                    name, failures, wait)
        return wait

    def succeeded(self, name: str) -> None:
        """Forget the failures of `name`."""
        with self._lock:
            self._failures.pop(name, None)
            self._next_try.pop(name, None)


def run_watch(settings: Settings, stop_event: threading.Event) -> None:
    """Sync every account now, then on IDLE news and every poll, until stopped."""
    wanted: queue.Queue[str] = queue.Queue()
    backoff = LoginBackoff()
    # TODO: an account added while the watch runs gets no IDLE thread until the
    # next start; until then it is synced by the poll only.
    names = _account_names(settings)
    watchers = [
        threading.Thread(target=_idle_inbox,
                         args=(settings, name, wanted, stop_event, backoff),
                         name=f"idle-{name}", daemon=True)
        for name in names
    ]
    for watcher in watchers:
        watcher.start()
    log.info("watch started accounts=%s poll_seconds=%s", len(names),
             settings.poll_seconds)

    next_poll = 0.0
    while not stop_event.is_set():
        if time.monotonic() >= next_poll:
            for name in _account_names(settings):
                wanted.put(name)
            next_poll = time.monotonic() + settings.poll_seconds
        _run_wanted_syncs(settings, wanted, stop_event, backoff)
    for watcher in watchers:
        watcher.join(timeout=TICK_SECONDS * 5)
    log.info("watch stopped")


def _account_names(settings: Settings) -> list[str]:
    with session_factory(settings.effective_database_url)() as session:
        return [account.name for account in list_accounts(session)]


def _run_wanted_syncs(
    settings: Settings,
    wanted: queue.Queue[str],
    stop_event: threading.Event,
    backoff: LoginBackoff,
) -> None:
    try:
        name = wanted.get(timeout=TICK_SECONDS)
    except queue.Empty:
        return
    # Collapse repeated requests: one sync catches up on everything pending.
    pending = {name}
    while not wanted.empty():
        pending.add(wanted.get_nowait())
    for name in sorted(pending):
        if stop_event.is_set():
            return
        if not backoff.due(name):
            continue
        try:
            report = sync_account(settings, name)
        except MailserviceError as exc:  # the account was removed meanwhile
            log.warning("watch could not sync account=%s: %s", name, exc)
            continue
        if report.login_refused:
            backoff.refused(name)
        elif report.ok:
            backoff.succeeded(name)


def _idle_inbox(
    settings: Settings,
    name: str,
    wanted: queue.Queue[str],
    stop_event: threading.Event,
    backoff: LoginBackoff,
) -> None:
    while not stop_event.is_set():
        if not backoff.due(name):
            stop_event.wait(TICK_SECONDS)
            continue
        try:
            _idle_once(settings, name, wanted, stop_event)
        except (ImapLoginError, SecretKeyError):
            # The poll's sync records the refusal and sets the backoff; the
            # IDLE thread waits for the same moment.
            stop_event.wait(RETRY_SECONDS)
        except MailserviceError as exc:
            log.warning("idle stopped account=%s: %s; retrying", name, exc)
            stop_event.wait(RETRY_SECONDS)


def _idle_once(
    settings: Settings,
    name: str,
    wanted: queue.Queue[str],
    stop_event: threading.Event,
) -> None:
    with session_factory(settings.effective_database_url)() as session:
        account = get_account(session, name)
        client = connect(account, settings)
    try:
        with imap_errors(name):
            client.select_folder("INBOX", readonly=True)
            _idle_until_stopped(settings, client, name, wanted, stop_event)
    finally:
        close(client)


def _idle_until_stopped(settings, client, name, wanted, stop_event) -> None:
    while not stop_event.is_set():
        client.idle()
        # Servers may drop an IDLE after 30 minutes (RFC 2177): renew it sooner.
        renew_at = time.monotonic() + settings.idle_seconds
        news = []
        while not news and not stop_event.is_set() and time.monotonic() < renew_at:
            news = client.idle_check(timeout=TICK_SECONDS)
        client.idle_done()
        if news:
            log.debug("idle news account=%s responses=%s", name, len(news))
            wanted.put(name)
