"""Running the demo: servers up, contacts in, account added, synced, reported.

The demo mailbox lives in data_dir/demo and is kept between runs, as is the
database, so a second run syncs the same mailbox and adds nothing. The account
keeps its ports: a port is reused when free, and the account follows when a
port has to change.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailservice.accounts.models import Account
from mailservice.accounts.secrets import encrypt_secret
from mailservice.accounts.service import LOOPBACK_HOSTS, add_account
from mailservice.config import Settings
from mailservice.contacts.importing import import_contacts
from mailservice.db.migrate import upgrade_database
from mailservice.db.session import session_scope
from mailservice.demo.imap_server import USER, DemoImapServer
from mailservice.demo.ports import pick_port
from mailservice.demo.report import (
    DemoReport,
    ServerInfo,
    collect_report,
    format_report,
    format_servers,
)
from mailservice.demo.samples import CONTACTS_CSV
from mailservice.demo.smtp_server import DemoSmtpServer
from mailservice.errors import DemoError
from mailservice.messages.extract import extract_pending
from mailservice.sync.engine import sync_account

log = logging.getLogger(__name__)

ACCOUNT_NAME = "demo"
SECURITY = "none"  # plain text, which add_account allows on loopback only


def demo_dir(settings: Settings) -> Path:
    """Where the demo keeps its IMAP mailbox."""
    return settings.data_dir / "demo"


def run_demo(
    settings: Settings,
    *,
    imap_port: int | None = None,
    smtp_port: int | None = None,
    keep_running: bool = False,
    echo: Callable[[str], None] = print,
) -> DemoReport:
    """Start the demo servers, sync them as account "demo" and report what it found."""
    url = settings.effective_database_url
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade_database(url)

    with session_scope(url) as session:
        last_imap, last_smtp = _last_ports(session)
    imap = DemoImapServer(demo_dir(settings) / "imap", pick_port(imap_port, last_imap))
    smtp = DemoSmtpServer(imap, pick_port(smtp_port, last_smtp))
    with imap, smtp:
        servers = ServerInfo(imap.host, imap.port, smtp.port, imap.user, imap.password)
        report = _load_and_sync(settings, servers, echo)
        for line in format_report(report):
            echo(line)
        if keep_running:
            _serve_until_stopped(servers, echo)
    return report


def _load_and_sync(
    settings: Settings, servers: ServerInfo, echo: Callable[[str], None]
) -> DemoReport:
    url = settings.effective_database_url
    with session_scope(url) as session:
        _import_demo_contacts(session, settings, echo)
        _ensure_account(session, settings, servers)

    # The same calls `mailservice sync demo` and `mailservice extract` make.
    synced = sync_account(settings, ACCOUNT_NAME)
    if not synced.ok:
        raise DemoError(f"the demo mailbox did not sync: {synced.error}")
    extract_pending(settings)

    with session_scope(url) as session:
        account = session.scalar(select(Account).where(Account.name == ACCOUNT_NAME))
        return collect_report(session, account, servers, synced.new_messages)


def _import_demo_contacts(
    session: Session, settings: Settings, echo: Callable[[str], None]
) -> None:
    # Importing matches rows to stored contacts, so a second run adds no one.
    report = import_contacts(session, settings, CONTACTS_CSV)
    if report.errors:
        problems = "; ".join(f"line {line}: {why}" for line, why in report.errors)
        raise DemoError(f"the demo contacts file {CONTACTS_CSV} is bad: {problems}")
    echo(f"contacts: {report.imported} new, {report.updated} already known")


def _ensure_account(session: Session, settings: Settings, servers: ServerInfo) -> None:
    account = session.scalar(select(Account).where(Account.name == ACCOUNT_NAME))
    if account is None:
        add_account(
            session, settings, name=ACCOUNT_NAME,
            imap_host=servers.host, imap_port=servers.imap_port, imap_security=SECURITY,
            username=servers.user, secret=servers.password, email=servers.user,
            smtp_host=servers.host, smtp_port=servers.smtp_port, smtp_security=SECURITY,
        )
        return

    if (account.imap_port, account.smtp_port) != (servers.imap_port, servers.smtp_port):
        log.info(
            "demo account moves to ports imap=%d smtp=%d",
            servers.imap_port, servers.smtp_port,
        )
    account.imap_host, account.imap_port = servers.host, servers.imap_port
    account.smtp_host, account.smtp_port = servers.host, servers.smtp_port
    account.imap_security = account.smtp_security = SECURITY
    # The secret key may have been made anew since the last run; re-encrypt.
    account.secret_encrypted = encrypt_secret(settings, servers.password)


def _last_ports(session: Session) -> tuple[int | None, int | None]:
    """The demo account's ports from the last run; refuses a foreign "demo"."""
    account = session.scalar(select(Account).where(Account.name == ACCOUNT_NAME))
    if account is None:
        return None, None
    if account.username != USER or account.imap_host not in LOOPBACK_HOSTS:
        raise DemoError(
            f"an account named {ACCOUNT_NAME!r} exists and is not the demo mailbox "
            f"({account.username} at {account.imap_host}); use another data folder"
        )
    return account.imap_port, account.smtp_port


def _serve_until_stopped(servers: ServerInfo, echo: Callable[[str], None]) -> None:
    echo("")
    echo("the demo servers keep running; press Ctrl-C to stop them")
    for line in format_servers(servers):
        echo("  " + line)
    stopped = threading.Event()
    # Ctrl-C and SIGTERM both stop the servers, or pymap would outlive us.
    previous = {
        signum: signal.signal(signum, lambda *_: stopped.set())
        for signum in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        while not stopped.wait(1.0):
            pass
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    echo("stopping the demo servers")
