"""Syncing accounts: every folder of one account, or every account in turn.

An account that fails (login refused, server unreachable or dropping us, a secret
that the key cannot open) has the reason kept in `Account.last_error` and in its
report; the other accounts sync all the same. What was committed before a
failure stays, and the next run resumes from each folder's `last_uid`.
"""

from __future__ import annotations

import imaplib
import logging
import ssl
import time
from dataclasses import dataclass

from imapclient import IMAPClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from mailservice.accounts.models import Account
from mailservice.accounts.service import get_account, list_accounts
from mailservice.config import Settings
from mailservice.db.base import utcnow
from mailservice.db.session import session_factory
from mailservice.errors import ImapLoginError, MailserviceError, SecretKeyError
from mailservice.store.raw import RawStore
from mailservice.sync.folder_sync import BatchHook, SyncContext, sync_folder
from mailservice.sync.folders import list_remote_folders, reconcile_folders
from mailservice.sync.imap import close, connect, imap_errors

log = logging.getLogger(__name__)


@dataclass
class AccountReport:
    """What one account's sync did, or why it failed."""

    account: str
    folders: int = 0
    folders_selected: int = 0
    folders_failed: int = 0
    new_messages: int = 0
    new_locations: int = 0
    flags_changed: int = 0
    deleted: int = 0
    seconds: float = 0.0
    error: str | None = None
    # The server refused the login or the secret could not be read: retrying
    # soon cannot help and may get the account locked by the provider.
    login_refused: bool = False

    @property
    def ok(self) -> bool:
        """Whether the account synced without an error."""
        return self.error is None


def sync_all(
    settings: Settings,
    on_batch: BatchHook | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> list[AccountReport]:
    """Sync every account, one after another; one report per account."""
    with session_factory(settings.effective_database_url)() as session:
        names = [account.name for account in list_accounts(session)]
    return [sync_account(settings, name, on_batch, ssl_context) for name in names]


def sync_account(
    settings: Settings,
    name: str,
    on_batch: BatchHook | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> AccountReport:
    """Sync every folder of the account called `name`; failures go into the report."""
    started = time.monotonic()
    report = AccountReport(account=name)
    with session_factory(settings.effective_database_url)() as session:
        account = get_account(session, name)
        try:
            _sync(session, settings, account, report, on_batch, ssl_context)
        except MailserviceError as exc:
            report.error = str(exc)
            report.login_refused = isinstance(exc, (ImapLoginError, SecretKeyError))
            log.error("sync failed account=%s: %s", name, exc)
        except Exception as exc:  # noqa: BLE001 - one account must not stop the rest
            report.error = f"account {name!r}: sync stopped by an internal error: {exc}"
            log.exception("sync failed account=%s", name)
        _record_outcome(session, account.id, report.error)
    report.seconds = time.monotonic() - started
    log.info(
        "sync finished account=%s folders=%s selected=%s new=%s locations=%s "
        "flags=%s deleted=%s seconds=%.2f error=%s", name, report.folders,
        report.folders_selected, report.new_messages, report.new_locations,
        report.flags_changed, report.deleted, report.seconds, bool(report.error),
    )
    return report


def _sync(
    session: Session,
    settings: Settings,
    account: Account,
    report: AccountReport,
    on_batch: BatchHook | None,
    ssl_context: ssl.SSLContext | None,
) -> None:
    client = connect(account, settings, ssl_context)
    try:
        with imap_errors(account.name):
            ctx = _context(session, settings, client, on_batch)
            remote = list_remote_folders(client, ctx.condstore)
            pairs = reconcile_folders(session, account, remote)
            session.commit()
            report.folders = len(pairs)
            for folder, status in pairs:
                _sync_one_folder(ctx, folder, status, report)
    except BaseException:
        session.rollback()
        raise
    finally:
        close(client)


def _context(
    session: Session, settings: Settings, client: IMAPClient, on_batch: BatchHook | None
) -> SyncContext:
    qresync = client.has_capability("QRESYNC")
    if qresync:
        # QRESYNC must be enabled before any SELECT (RFC 7162 3.2.3).
        client.enable("QRESYNC")
    return SyncContext(
        session=session,
        settings=settings,
        client=client,
        # Synced per batch, not per message (fetch.make_durable).
        store=RawStore(settings.effective_raw_store_dir, fsync=False),
        condstore=qresync or client.has_capability("CONDSTORE"),
        qresync=qresync,
        on_batch=on_batch,
    )


def _sync_one_folder(ctx: SyncContext, folder, status, report: AccountReport) -> None:
    try:
        counts = sync_folder(ctx, folder, status)
    except imaplib.IMAP4.abort:
        raise
    except imaplib.IMAP4.error as exc:
        # A NO or BAD for one folder (deleted meanwhile, no access): skip it.
        ctx.session.rollback()
        report.folders_failed += 1
        log.warning("folder skipped folder=%r: %s", folder.name, exc)
        return
    report.folders_selected += counts.selected
    report.new_messages += counts.new_messages
    report.new_locations += counts.new_locations
    report.flags_changed += counts.flags_changed
    report.deleted += counts.deleted


def _record_outcome(session: Session, account_id: int, error: str | None) -> None:
    values = {"last_error": error}
    if error is None:
        values["last_sync_at"] = utcnow()
    session.execute(update(Account).where(Account.id == account_id).values(**values))
    session.commit()
