"""The mailing pages: create with a CSV list, problems before sending, preview and
its PDF, test send, start with live progress, report and CSV, a new mailing from
failures; access by account; the public one-click unsubscribe (RFC 8058)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from mailservice.mailings.models import Mailing, SuppressedAddress
from mailservice.mailings.problems import recipient_problems
from mailservice.mailings.recipients import get_mailing
from mailservice.users.service import add_user, grant_account
from mailservice.web.app import create_app
from tests.mailings_support import (
    DOCUMENT,
    make_contacts,
    make_mailing,
    parsed,
    pdf_text,
    run_to_end,
    wait_finished,
)
from tests.outbound_support import add_sink_account, embedded_workers, fast_settings
from tests.servers.smtp import smtp_sink  # noqa: F401  (fixture)
from tests.web.conftest import PASSWORD, csrf_of, login


@pytest.fixture
def web(session, settings, smtp_sink):
    """Settings, the app, an admin's client, and a staff user without the account."""
    settings = fast_settings(
        settings, public_base_url="https://poczta.firma.test", mailing_chunk_size=3
    )
    account_id = add_sink_account(session, settings, smtp_sink.port)
    add_user(session, "admin@firma.test", PASSWORD, role="admin", locale="en")
    add_user(session, "ola@firma.test", PASSWORD, role="staff")
    session.commit()
    app = create_app(settings)
    return settings, app, login(app, "admin@firma.test"), account_id


def _form(csrf: str, **fields) -> dict:
    values = {
        "csrf": csrf,
        "name": "Faktury listopad",
        "account": "office",
        "kind": "transactional",
        "locale": "pl",
        "subject": "Faktura {{ document.number }}",
        "body": "<p>Do zapłaty {{ document.amount_due }} zł.</p>",
        "signature": "1",
        "document": DOCUMENT,
        "document_filename": "faktura-{{ document.number }}.pdf",
        "addresses": "all",
        "files_match": "none",
    }
    values.update(fields)
    return values


def _csv() -> bytes:
    return (
        b"email;number;amount_due\n"
        b"biuro0@klient0.test;FS/1/2026;100,00\n"
        b"biuro1@klient1.test;FS/2/2026;200,00\n"
        b"nowy@klient.test;FS/3/2026;300,00\n"
    )


def test_a_mailing_made_previewed_tested_sent_and_reported_in_the_browser(
    session, web, smtp_sink
):
    settings, _app, client, _account = web
    make_contacts(session, 3)
    answer = client.post(
        "/mailings/new",
        data=_form(csrf_of(client)),
        files={"csv": ("lista.csv", _csv(), "text/csv")},
    )
    assert answer.status_code == 303, answer.text
    page_url = answer.headers["location"]
    mailing_id = int(page_url.rsplit("/", 1)[1])

    overview = client.get(page_url)
    assert overview.status_code == 200
    assert "nowy@klient.test" in overview.text
    # The document shows {{ document.currency }}, which the list does not give.
    assert "warning: no value for the document field(s) currency" in overview.text

    preview = client.get(f"{page_url}/preview?n=2")
    assert (
        "Faktura FS/2/2026" in preview.text and "faktura-FS_2_2026.pdf" in preview.text
    )
    body = client.get(f"{page_url}/preview/2/body")
    assert "Do zapłaty 200,00 zł." in body.text
    assert "sandbox" in body.headers["content-security-policy"]
    pdf = client.get(f"{page_url}/preview/2/file/0")
    assert "Kontrahent: Firma 1" in pdf_text(pdf.content)

    answer = client.post(
        f"{page_url}/test",
        data={"csrf": csrf_of(client, page_url), "n": "3", "to": "ja@firma.test"},
    )
    assert answer.status_code == 303
    with embedded_workers(settings):
        assert smtp_sink.wait_for(1, timeout=30)
        assert smtp_sink.received[0].rcpt_tos == ["ja@firma.test"]
        answer = client.post(
            f"{page_url}/start", data={"csrf": csrf_of(client, page_url)}
        )
        assert answer.status_code == 303
        running = client.get(page_url).text
        assert 'http-equiv="refresh"' in running or "finished" in running
        assert wait_finished(settings, mailing_id, 60)

    report = client.get(f"{page_url}/report")
    assert report.status_code == 200 and "Report" in report.text
    csv = client.get(f"{page_url}/report.csv")
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.splitlines()
    assert len(lines) == 4 and all(",sent," in line for line in lines[1:])
    assert sorted(m.rcpt_tos[0] for m in smtp_sink.received[1:]) == [
        "biuro0@klient0.test",
        "biuro1@klient1.test",
        "nowy@klient.test",
    ]


def test_the_form_shows_template_errors_and_keeps_what_was_typed(session, web):
    _settings, _app, client, _account = web
    answer = client.post(
        "/mailings/new",
        data=_form(
            csrf_of(client), subject="Faktura {{ document.numer }}", to="a@b.test"
        ),
    )

    assert answer.status_code == 200
    assert "unknown field document.numer" in answer.text
    assert "Faktura {{ document.numer }}" in answer.text
    assert session.scalar(select(Mailing.id)) is None


def test_staff_without_the_account_cannot_see_or_start_a_mailing(session, web):
    settings, app, _client, _account = web
    make_contacts(session, 2)
    mailing_id = make_mailing(session, settings)
    staff = login(app, "ola@firma.test")

    assert staff.get(f"/mailings/{mailing_id}").status_code == 404
    assert "Faktury listopad" not in staff.get("/mailings").text
    answer = staff.post(
        f"/mailings/{mailing_id}/start", data={"csrf": csrf_of(staff, "/mailings")}
    )
    assert answer.status_code == 404
    assert get_mailing(session, mailing_id).state == "draft"


def test_a_staff_member_with_the_account_may_run_its_mailings(session, web):
    settings, app, _client, account_id = web
    from mailservice.accounts.models import Account
    from mailservice.users.service import get_user

    grant_account(
        session, get_user(session, "ola@firma.test"), session.get(Account, account_id)
    )
    session.commit()
    make_contacts(session, 2)
    mailing_id = make_mailing(session, settings)

    staff = login(app, "ola@firma.test")
    assert staff.get(f"/mailings/{mailing_id}").status_code == 200


def _list_unsubscribe(message) -> str:
    header = parsed(message)["List-Unsubscribe"].strip()
    return re.fullmatch(r"<(https://[^>]+)>", header).group(1)


def test_one_click_unsubscribe_needs_no_login_and_later_offers_honour_it(
    session, web, smtp_sink
):
    settings, app, _client, _account = web
    make_contacts(session, 2)
    offer = make_mailing(session, settings, kind="marketing", name="Oferta")
    assert run_to_end(settings, offer)

    message = next(
        m for m in smtp_sink.received if m.rcpt_tos == ["biuro1@klient1.test"]
    )
    mail = parsed(message)
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = _list_unsubscribe(message)
    assert url.startswith("https://poczta.firma.test/unsubscribe/")
    path = url.removeprefix("https://poczta.firma.test")
    assert path in mail.get_body(("html",)).get_content()  # the visible link too

    stranger = TestClient(app, base_url="https://poczta.firma.test")
    asked = stranger.get(path)
    assert asked.status_code == 200 and "Wypisz mnie" in asked.text
    assert session.scalar(select(SuppressedAddress.id)) is None  # a GET changes nothing
    done = stranger.post(
        path,
        content=b"List-Unsubscribe=One-Click",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert done.status_code == 200 and "biuro1@klient1.test" in done.text

    forged = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    assert stranger.post(forged).status_code == 404
    later = make_mailing(session, settings, kind="marketing", name="Nowa oferta")
    problems = list(recipient_problems(session, get_mailing(session, later)))
    assert [(p.address, p.problem) for p in problems] == [
        ("biuro1@klient1.test", "unsubscribed")
    ]


def test_the_preview_of_an_offer_carries_a_test_link_that_changes_nothing(
    session, web
):
    settings, app, client, _account = web
    make_contacts(session, 1)
    offer = make_mailing(session, settings, kind="marketing", name="Oferta")

    page = client.get(f"/mailings/{offer}/preview?n=1").text
    path = re.search(r"https://poczta\.firma\.test(/unsubscribe/0\.[\w-]+)", page)
    assert path is not None
    done = TestClient(app).post(path.group(1))
    assert done.status_code == 200 and "testowa" in done.text
    assert session.scalar(select(SuppressedAddress.id)) is None
