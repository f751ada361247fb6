"""Sync under faults: killed processes, dropped connections, refused logins, bad keys,
huge messages; and the ways in: TLS, STARTTLS, XOAUTH2, a non-ASCII password."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from mailservice.accounts.models import Account
from mailservice.messages.models import Message, MessageLocation
from mailservice.store.raw import RawStore
from mailservice.sync.engine import sync_account, sync_all
from tests.servers.dovecot import (  # noqa: F401  (fixtures)
    REPO_ROOT,
    dovecot,
    dovecot_tls,
    free_port,
)
from tests.sync_support import (
    add_imap_account,
    assert_no_duplicates,
    folder_row,
    live_uids,
    mail,
    message_count,
    sync_settings,
    wait_for_messages,
)

pytestmark = pytest.mark.imap
MAILSERVICE = Path(sys.executable).parent / "mailservice"


def _env(settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "MAILSERVICE_DATABASE_URL": settings.database_url,
        "MAILSERVICE_DATA_DIR": str(settings.data_dir),
        "MAILSERVICE_FETCH_BATCH_MESSAGES": str(settings.fetch_batch_messages),
        "MAILSERVICE_POLL_SECONDS": str(settings.poll_seconds),
        "MAILSERVICE_CONFIG": "",
        "PYTHONPATH": str(REPO_ROOT),
    })
    return env


@pytest.mark.parametrize("mode, count", [
    ("after-commit", 2), ("before-commit", 3), ("raw-stored", 13),
])
def test_sync_killed_mid_run_resumes_without_loss_or_duplicates(
    dovecot, settings, session, mode, count
):
    user = dovecot.add_user()
    dovecot.append_many(user, "INBOX", [mail(n) for n in range(1, 24)])
    dovecot.append_many(user, "Sent", [mail(n) for n in range(20, 30)])
    current = sync_settings(settings)
    add_imap_account(current, dovecot, user)

    killed = subprocess.run(
        [sys.executable, "-m", "tests.sync_crash", "biuro", mode, str(count)],
        env=_env(current), cwd=REPO_ROOT, capture_output=True, timeout=120,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()[-2000:]
    partial = message_count(session)
    session.rollback()
    report = sync_account(current, "biuro")

    assert 0 <= partial < 29 and report.ok
    assert message_count(session) == 29  # 20..23 are in both folders
    inbox, sent = (folder_row(session, "biuro", name) for name in ("INBOX", "Sent"))
    assert live_uids(session, inbox) == list(range(1, 24))
    assert live_uids(session, sent) == list(range(1, 11))
    assert_no_duplicates(session)


def test_connection_dropped_mid_fetch_keeps_batches_and_next_run_resumes(
    dovecot, settings, session
):
    user = dovecot.add_user()
    dovecot.append_many(user, "INBOX", [mail(n) for n in range(1, 31)])
    current = sync_settings(settings)
    add_imap_account(current, dovecot, user)

    def drop_after_two_batches(_folder: str, _count: int, seen=[]) -> None:
        seen.append(1)
        if len(seen) == 2:
            assert dovecot.kill_sessions(user) >= 1
    dropped = sync_account(current, "biuro", on_batch=drop_after_two_batches)

    assert not dropped.ok and "'biuro'" in dropped.error and "dropped" in dropped.error
    inbox = folder_row(session, "biuro", "INBOX")
    assert live_uids(session, inbox) == list(range(1, 11))
    assert session.scalar(select(Account.last_error)) == dropped.error

    resumed = sync_account(current, "biuro")
    session.rollback()
    assert resumed.ok and resumed.new_locations == 20
    assert session.scalar(select(Account.last_error)) is None
    assert message_count(session) == 30
    assert_no_duplicates(session)


def test_refused_login_names_the_account_and_the_other_account_still_syncs(
    dovecot, settings, session
):
    good, other = dovecot.add_user(), dovecot.add_user()
    dovecot.append(good, "INBOX", mail(1))
    current = sync_settings(settings)
    add_imap_account(current, dovecot, other, name="a-zle-haslo", password="wrong")
    add_imap_account(current, dovecot, good, name="biuro")

    reports = {report.account: report for report in sync_all(current)}

    refused = reports["a-zle-haslo"]
    assert "'a-zle-haslo'" in refused.error and "refused the login" in refused.error
    assert reports["biuro"].ok and reports["biuro"].new_messages == 1
    errors = dict(session.execute(select(Account.name, Account.last_error)).all())
    assert errors == {"a-zle-haslo": refused.error, "biuro": None}


def test_unreachable_server_is_a_connection_error_naming_the_account(
    dovecot, settings
):
    user = dovecot.add_user()
    current = sync_settings(settings)
    add_imap_account(current, dovecot, user, name="daleko", imap_port=free_port())

    report = sync_account(current, "daleko")

    assert "'daleko'" in report.error and "connection failed" in report.error


def test_wrong_secret_key_names_the_account_and_others_still_sync(
    dovecot, settings, session
):
    user = dovecot.add_user()
    dovecot.append(user, "INBOX", mail(1))
    old_key = sync_settings(settings, secret_key=Fernet.generate_key().decode())
    current = sync_settings(settings, secret_key=Fernet.generate_key().decode())
    add_imap_account(old_key, dovecot, user, name="stare-konto")
    add_imap_account(current, dovecot, user, name="biuro")

    reports = {report.account: report for report in sync_all(current)}

    assert "'stare-konto'" in reports["stare-konto"].error
    assert "cannot be decrypted" in reports["stare-konto"].error
    assert reports["biuro"].ok and message_count(session) == 1


def test_fifty_megabyte_message_is_streamed_byte_exact(dovecot, settings, session):
    user = dovecot.add_user()
    big = _large_message(50 * 1024 * 1024)
    dovecot.write_maildir(user, "INBOX", [big])
    dovecot.append(user, "INBOX", mail(1))
    current = sync_settings(settings)
    add_imap_account(current, dovecot, user)

    tracemalloc.start()
    report = sync_account(current, "biuro")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    assert report.ok and report.new_messages == 2
    stored = session.scalar(select(Message).where(Message.size > 1024 * 1024))
    assert stored.size == len(big) and stored.subject == "Skany faktur"
    assert RawStore(current.effective_raw_store_dir).read(stored.raw_sha256) == big
    # Streamed in 4 MB chunks: nowhere near the whole message in memory at once.
    assert peak < 20 * 1024 * 1024


def _large_message(size: int) -> bytes:
    head = (
        b"From: skaner@firma.pl\r\nTo: biuro@firma.pl\r\nSubject: Skany faktur\r\n"
        b"Message-ID: <scan-1@firma.pl>\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: application/octet-stream; name=skany.bin\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n"
    )
    line = b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5\r\n"
    lines = (size - len(head)) // len(line)
    numbered = (b"%08d" % n + line[8:] for n in range(lines))
    return head + b"".join(numbered)


def test_tls_and_starttls_with_xoauth2_and_password_logins(
    dovecot_tls, settings, session
):
    user = dovecot_tls.add_user()
    dovecot_tls.append(user, "INBOX", mail(1))
    current = sync_settings(settings)
    add_imap_account(current, dovecot_tls, user, name="ssl-oauth",
                     imap_security="ssl", imap_port=dovecot_tls.ssl_port,
                     auth_method="xoauth2")
    add_imap_account(current, dovecot_tls, user, name="starttls",
                     imap_security="starttls")
    context = dovecot_tls.tls_context()

    assert sync_account(current, "ssl-oauth", ssl_context=context).ok
    assert sync_account(current, "starttls", ssl_context=context).ok
    untrusted = sync_account(current, "starttls")

    assert message_count(session) == 1
    assert len(session.scalars(select(MessageLocation)).all()) == 2
    assert "certificate" in untrusted.error.lower()


def test_non_ascii_password_logs_in(dovecot, settings, session):
    user = dovecot.add_user(password="zażółć-gęślą")
    dovecot.append(user, "INBOX", mail(1))
    current = sync_settings(settings)
    add_imap_account(current, dovecot, user)

    assert sync_account(current, "biuro").ok and message_count(session) == 1


def test_sync_command_prints_each_account_and_fails_if_one_failed(
    dovecot, settings
):
    user = dovecot.add_user()
    dovecot.append_many(user, "INBOX", [mail(1), mail(2)])
    current = sync_settings(settings)
    add_imap_account(current, dovecot, user, name="biuro")
    add_imap_account(current, dovecot, user, name="zle", password="wrong")

    run = subprocess.run([str(MAILSERVICE), "sync"], env=_env(current),
                         cwd=settings.data_dir.parent, capture_output=True,
                         text=True, timeout=120)

    assert run.returncode == 1
    assert "biuro: 1 folders (1 changed), 2 new messages" in run.stdout
    assert "zle: FAILED: account 'zle'" in run.stdout


def test_serve_syncs_new_inbox_mail_within_seconds_and_stops_on_sigterm(
    dovecot, settings, session
):
    user = dovecot.add_user()
    dovecot.append(user, "INBOX", mail(1))
    current = sync_settings(settings)
    add_imap_account(current, dovecot, user)
    serve = subprocess.Popen([str(MAILSERVICE), "serve"], env=_env(current),
                             cwd=settings.data_dir.parent, stderr=subprocess.PIPE)
    try:
        wait_for_messages(session, 1, "the first sync")
        dovecot.append(user, "INBOX", mail(2))
        wait_for_messages(session, 2, "IDLE to bring the new message")
    finally:
        serve.send_signal(signal.SIGTERM)
        _, stderr = serve.communicate(timeout=30)
    assert serve.returncode == 0, stderr.decode()[-2000:]
