"""The public unsubscribe page of marketing mailings (RFC 8058 one-click).

No login and no form token: a mail client's one-click POST carries neither, so
the signed token in the URL is the only proof (mailings/unsubscribe.py). A GET
only asks, because link scanners and previews fetch URLs from mail.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from mailservice.errors import MailserviceError
from mailservice.mailings.models import Mailing, MailingRecipient
from mailservice.mailings.unsubscribe import TEST_RECIPIENT, read_token, unsubscribe
from mailservice.web.headers import PAGE_HEADERS
from mailservice.web.templating import environment

log = logging.getLogger(__name__)

UNSUBSCRIBE_TEXT = {
    "pl": {
        "title": "Wypisanie z listy",
        "ask": "Czy na pewno nie chcesz już otrzymywać od nas ofert i ogłoszeń?",
        "button": "Wypisz mnie",
        "done": "Adres {address} został wypisany. Nie wyślemy na niego więcej ofert.",
        "test": "To była wiadomość testowa: nic nie zostało zmienione.",
        "bad": "Ten link do wypisania jest nieprawidłowy.",
    },
    "en": {
        "title": "Unsubscribe",
        "ask": "Do you really want no more offers and announcements from us?",
        "button": "Unsubscribe me",
        "done": "{address} is unsubscribed. We will send it no more offers.",
        "test": "This was a test message: nothing has changed.",
        "bad": "This unsubscribe link is not valid.",
    },
}


async def confirm_page(request: Request) -> Response:
    """GET: ask for confirmation (a link scanner's visit must change nothing)."""
    return await run_in_threadpool(_unsubscribe, request, False)


async def one_click(request: Request) -> Response:
    """POST: unsubscribe at once; the one-click of RFC 8058, no login, no CSRF."""
    return await run_in_threadpool(_unsubscribe, request, True)


def _unsubscribe(request: Request, confirmed: bool) -> Response:
    settings = request.app.state.settings
    token = request.path_params["token"]
    db = request.app.state.sessions()
    try:
        locale = _locale_of(db, settings, token)
        text = UNSUBSCRIBE_TEXT[locale]
        if read_token(settings, token) is None:
            log.info("unsubscribe link refused: not genuine")
            return _public_page(text, locale, text["bad"], status=404)
        if not confirmed:
            return _public_page(text, locale, text["ask"], form=True)
        address = unsubscribe(db, settings, token)
        db.commit()
    except MailserviceError:
        db.rollback()
        text = UNSUBSCRIBE_TEXT["pl"]
        return _public_page(text, "pl", text["bad"], status=404)
    finally:
        db.close()
    message = text["test"] if address is None else text["done"].format(address=address)
    return _public_page(text, locale, message)


def _locale_of(db, settings, token: str) -> str:
    recipient_id = read_token(settings, token)
    if recipient_id in (None, TEST_RECIPIENT):
        return "pl"
    locale = db.scalar(
        select(Mailing.locale)
        .join(MailingRecipient)
        .where(MailingRecipient.id == recipient_id)
    )
    return locale if locale in UNSUBSCRIBE_TEXT else "pl"


def _public_page(
    text: dict, locale: str, message: str, form: bool = False, status: int = 200
) -> Response:
    html = (
        environment()
        .get_template("mailings/unsubscribe.html")
        .render(
            text=text,
            locale=locale,
            message=message,
            form=form,
        )
    )
    return HTMLResponse(html, status, headers=PAGE_HEADERS)
