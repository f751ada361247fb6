"""Unsubscribing from marketing mail: signed links, the headers, the suppression list.

Every marketing message carries `List-Unsubscribe: <https://.../unsubscribe/T>`
(RFC 2369) and `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058),
so a mail client can unsubscribe with one POST that carries no cookie and no
form token. The token T is therefore the only proof: the recipient's id with an
HMAC-SHA256 of it under a key derived from the installation's secret, 128 bits,
which nobody can guess or forge for another recipient. Id 0 stands for test
sends, whose link changes nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mailservice.accounts.secrets import load_key
from mailservice.config import Settings
from mailservice.contacts.addresses import normalize_address
from mailservice.errors import ConfigurationError, MailingError
from mailservice.mailings.models import MailingRecipient, SuppressedAddress

log = logging.getLogger(__name__)

TEST_RECIPIENT = 0
_PURPOSE = b"mailservice mailing unsubscribe v1"
FOOTERS = {
    "pl": "Nie chcesz otrzymywać od nas takich wiadomości? "
    '<a href="{url}">Wypisz się z listy</a>.',
    "en": "Do you no longer want messages like this from us? "
    '<a href="{url}">Unsubscribe</a>.',
}


def _key(settings: Settings) -> bytes:
    # A key of its own, derived from the installation's secret, so a token
    # reveals nothing about the key that encrypts account passwords.
    return hmac.new(load_key(settings), _PURPOSE, hashlib.sha256).digest()


def _mac(settings: Settings, recipient_id: int) -> str:
    digest = hmac.new(_key(settings), str(recipient_id).encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()[:16]).decode().rstrip("=")


def make_token(settings: Settings, recipient_id: int) -> str:
    """The unsubscribe token of one mailing recipient."""
    return f"{recipient_id}.{_mac(settings, recipient_id)}"


def read_token(settings: Settings, token: str) -> int | None:
    """The recipient id a token was made for, or None when it is not genuine."""
    number, _, mac = token.partition(".")
    if not number.isdigit() or len(number) > 18 or not mac:
        return None
    recipient_id = int(number)
    if not hmac.compare_digest(mac, _mac(settings, recipient_id)):
        return None
    return recipient_id


def unsubscribe_url(settings: Settings, recipient_id: int) -> str:
    """The public link that unsubscribes a recipient."""
    base = settings.public_base_url.rstrip("/")
    if not base:
        raise ConfigurationError(
            "marketing mailings need public_base_url (MAILSERVICE_PUBLIC_BASE_URL), "
            "the address where recipients reach the unsubscribe page"
        )
    return f"{base}/unsubscribe/{make_token(settings, recipient_id)}"


def unsubscribe_headers(settings: Settings, recipient_id: int) -> list[tuple[str, str]]:
    """The RFC 2369 and RFC 8058 headers of one marketing message."""
    return [
        ("List-Unsubscribe", f"<{unsubscribe_url(settings, recipient_id)}>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
    ]


def footer_html(settings: Settings, recipient_id: int, locale: str) -> str:
    """The visible unsubscribe line under a marketing message's body."""
    url = html.escape(unsubscribe_url(settings, recipient_id), quote=True)
    text = FOOTERS.get(locale, FOOTERS["en"]).format(url=url)
    return f'\n<p style="font-size:12px;color:#666">{text}</p>'


def unsubscribe(session: Session, settings: Settings, token: str) -> str | None:
    """Put the token's address on the suppression list; the address, or None for
    a test token. A token that is not genuine raises MailingError."""
    recipient_id = read_token(settings, token)
    if recipient_id is None:
        raise MailingError("this unsubscribe link is not valid")
    if recipient_id == TEST_RECIPIENT:
        return None
    recipient = session.get(MailingRecipient, recipient_id)
    if recipient is None or not recipient.address:
        raise MailingError("this unsubscribe link belongs to a mailing that is gone")
    suppress(session, recipient.address, "unsubscribed", recipient.mailing_id)
    log.info("unsubscribed recipient=%s mailing=%s", recipient.id, recipient.mailing_id)
    return recipient.address


def suppress(
    session: Session,
    address: str,
    reason: str = "manual",
    mailing_id: int | None = None,
) -> None:
    """Add an address to the suppression list (already there: nothing changes)."""
    norm = normalize_address(address)
    if is_suppressed(session, norm):
        return
    try:
        with session.begin_nested():
            session.add(
                SuppressedAddress(
                    address_norm=norm, reason=reason, mailing_id=mailing_id
                )
            )
    except IntegrityError:
        pass  # a second click a moment ago


def unsuppress(session: Session, address: str) -> bool:
    """Take an address off the suppression list (it asked to subscribe again)."""
    row = session.scalar(
        select(SuppressedAddress).where(
            SuppressedAddress.address_norm == normalize_address(address)
        )
    )
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def is_suppressed(session: Session, address_norm: str) -> bool:
    """Whether marketing mail to this (normalised) address is refused."""
    return (
        session.scalar(
            select(SuppressedAddress.id).where(
                SuppressedAddress.address_norm == address_norm
            )
        )
        is not None
    )
