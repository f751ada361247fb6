"""After sending, a copy goes to the account's Sent folder by IMAP APPEND.

The Message row of the sent message is recorded at once by sentrecord.py; when
the next sync of Sent finds this copy, the sync's identity key matches that row
and only a location is added.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailservice.accounts.models import Account, Folder
from mailservice.config import Settings
from mailservice.outbound.models import OutgoingMessage, SendingPolicy
from mailservice.outbound.spool import Spool

log = logging.getLogger(__name__)

SENT_ROLE = "sent"


def sent_folder(session: Session, account: Account) -> Folder | None:
    """The folder sent mail is filed in: the configured one, else role `sent`."""
    policy = session.get(SendingPolicy, account.id)
    query = select(Folder).where(
        Folder.account_id == account.id, Folder.deleted_at.is_(None)
    )
    if policy is not None and policy.sent_folder:
        return session.scalar(query.where(Folder.wire_name == policy.sent_folder))
    return session.scalar(query.where(Folder.role == SENT_ROLE))


def append_sent_copies(
    session: Session, settings: Settings, account: Account, rows: list[OutgoingMessage]
) -> int:
    """IMAP APPEND each sent message to the Sent folder (\\Seen); how many went."""
    folder = sent_folder(session, account)
    wire_name = folder.wire_name if folder else settings.sent_folder
    if not wire_name:
        log.debug("account=%s has no Sent folder known yet; copies wait", account.name)
        return 0
    client = _imap_connect(account, settings)
    spool = Spool(settings.outbox_dir)
    done = 0
    try:
        for row in rows:
            raw = spool.read_message(row.spool_name)
            client.append(
                wire_name, raw, flags=[b"\\Seen"], msg_time=_aware(row.sent_at)
            )
            row.sent_copy_appended = True
            done += 1
    finally:
        client.logout()
    log.info(
        "appended %d sent copies account=%s folder=%s", done, account.name, wire_name
    )
    return done


def _aware(moment: datetime | None) -> datetime | None:
    return moment.astimezone() if moment else None


def _imap_connect(account: Account, settings: Settings):
    from mailservice.sync.imap import connect

    return connect(account, settings)
