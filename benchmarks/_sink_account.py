"""The sending account both mail benchmarks use: an SMTP sink, no rate limit."""

from __future__ import annotations

from sqlalchemy.orm import Session

from mailservice.accounts.models import Account
from mailservice.accounts.service import add_account
from mailservice.config import Settings
from mailservice.outbound.models import SendingPolicy
from tests.servers.smtp import HOST


def add_sink_account(session: Session, settings: Settings, port: int) -> Account:
    """Account "biuro" sending to the sink on `port`, with limits no run reaches."""
    account = add_account(
        session,
        settings,
        name="biuro",
        imap_host=HOST,
        imap_port=1,
        imap_security="none",
        username="biuro@firma.test",
        secret="x",
        email="biuro@firma.test",
        smtp_host=HOST,
        smtp_port=port,
        smtp_security="none",
    )
    session.add(SendingPolicy(account_id=account.id, per_minute=10**7, per_hour=10**8))
    return account
