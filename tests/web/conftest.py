"""A small company's mail in the database, users with and without grants, and a
logged-in browser-like client per user (Starlette's TestClient over httpx)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from starlette.testclient import TestClient

from mailservice.db.session import session_factory
from mailservice.users.service import add_user, grant_account
from mailservice.web.app import create_app
from tests.web.builders import MailBuilder

PASSWORD = "correct horse battery"
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Mail:
    """Ids of what the mail fixture made, for tests to address."""

    ids: dict[str, int]


@pytest.fixture
def mail(settings) -> Mail:
    """Two mailboxes (sales, support), threads, a contact, and three users."""
    session = session_factory(settings.effective_database_url)()
    build = MailBuilder(session, settings)
    sales, support = build.account("sales"), build.account("support")
    acme = build.contact("Acme Sp. z o.o.", "jan@acme.test")
    order = build.thread("Zamówienie 17/2026")
    first = build.message(
        "sales/inbox",
        order,
        sender=("Jan Nowak", "jan@acme.test"),
        text="Proszę o fakturę za zamówienie.",
        contact=acme,
        attachments=[("Zamówienie żółte.pdf", "application/pdf", b"%PDF-1.4 test")],
    )
    reply = build.message(
        "sales/sent",
        order,
        sender=("Biuro", "sales@firma.test"),
        text="Faktura w załączniku.",
        seen=True,
        contact=acme,
    )
    secret = build.thread("Poufne: wynagrodzenia")
    hidden = build.message(
        "support/inbox",
        secret,
        sender=("Anna Tajna", "anna@unknown.test"),
        text="Tajne dane płacowe",
        html="<p>Tajne <b>dane</b></p>",
        contact=acme,
        attachments=[("płace.xlsx", "application/vnd.ms-excel", b"PK secret")],
    )
    stranger = build.thread("Oferta współpracy")
    unknown = build.message(
        "sales/inbox",
        stranger,
        sender=("Piotr Obcy", "piotr@nowy.test"),
        text="Chcemy współpracować",
    )
    admin = add_user(session, "admin@firma.test", PASSWORD, role="admin", locale="en")
    staff = add_user(session, "ola@firma.test", PASSWORD, role="staff", name="Ola")
    add_user(session, "nobody@firma.test", PASSWORD, role="staff")
    grant_account(session, staff, sales)
    session.commit()
    ids = {
        "sales": sales.id,
        "support": support.id,
        "acme": acme.id,
        "order": order.id,
        "first": first.id,
        "reply": reply.id,
        "secret": secret.id,
        "hidden": hidden.id,
        "stranger": stranger.id,
        "unknown": unknown.id,
        "admin": admin.id,
        "staff": staff.id,
        "sales_inbox": build.folders["sales/inbox"].id,
        "sales_archive": build.folders["sales/archive"].id,
        "support_inbox": build.folders["support/inbox"].id,
        "first_attachment": first.attachments[0].id,
        "hidden_attachment": hidden.attachments[0].id,
        "first_location": first.locations[0].id,
        "hidden_location": hidden.locations[0].id,
    }
    session.close()
    return Mail(ids)


@pytest.fixture
def app(settings):
    """The inbox app on the test database."""
    return create_app(settings)


def login(app, email: str, password: str = PASSWORD) -> TestClient:
    """A client logged in as `email` (through the login form, CSRF and all)."""
    client = TestClient(app, base_url="http://testserver", follow_redirects=False)
    form = client.get("/login")
    token = CSRF_FIELD.search(form.text).group(1)
    answer = client.post(
        "/login",
        data={"email": email, "password": password, "csrf": token, "next": "/"},
    )
    assert answer.status_code == 303, answer.text
    return client


def csrf_of(client: TestClient, page: str = "/search") -> str:
    """The session's CSRF token, read from a page's forms as a browser would."""
    return CSRF_FIELD.search(client.get(page).text).group(1)
