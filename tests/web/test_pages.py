"""The pages staff read: thread lists, threads, contacts, search, to-assign."""

from __future__ import annotations

import re

from mailservice.contacts.models import MessageContact
from mailservice.db.session import session_factory
from tests.web.builders import MailBuilder
from tests.web.conftest import csrf_of, login


def _subjects(html: str) -> list[str]:
    return re.findall(r'<span class="subject">([^<]*)</span>', html)


def test_thread_list_is_newest_first_and_pages_through_every_thread(app, settings):
    session = session_factory(settings.effective_database_url)()
    build = MailBuilder(session, settings)
    build.account("sales")
    for number in range(57):
        build.message(
            "sales/inbox", build.thread(f"Sprawa {number:02d}"), seen=number % 2 == 0
        )
    from mailservice.users.service import add_user

    add_user(session, "ola@firma.test", "correct horse battery", role="admin")
    session.commit()
    folder = build.folders["sales/inbox"].id
    session.close()

    client = login(app, "ola@firma.test")
    first = client.get(f"/folders/{folder}").text
    assert _subjects(first)[:3] == ["Sprawa 56", "Sprawa 55", "Sprawa 54"]
    assert len(_subjects(first)) == 50
    assert first.count('class="thread unread"') == 25  # odd numbers are unread
    after = re.search(r'href="/folders/\d+\?after=([^"]+)"', first).group(1)
    second = client.get(f"/folders/{folder}?after={after}").text
    assert _subjects(second) == [f"Sprawa {n:02d}" for n in range(6, -1, -1)]
    assert 'rel="next"' not in second


def test_thread_view_shows_every_message_across_folders_with_attachments(app, mail):
    page = login(app, "ola@firma.test").get(f"/threads/{mail.ids['order']}").text
    assert "Proszę o fakturę" in page and "Faktura w załączniku" in page
    assert page.index("Proszę o fakturę") < page.index("Faktura w załączniku")
    assert 'class="folder-chip">Odebrane<' in page
    assert 'class="folder-chip">Wysłane<' in page
    assert "Zamówienie żółte.pdf" in page and "2 wiadomości" in page


def test_thread_can_be_assigned_to_a_colleague_and_marked_handled(app, mail):
    client = login(app, "admin@firma.test")
    thread = f"/threads/{mail.ids['order']}"
    token = csrf_of(client, thread)
    client.post(f"{thread}/assign", data={"user_id": mail.ids["staff"], "csrf": token})
    client.post(f"{thread}/handled", data={"handled": "1", "csrf": token})
    listing = client.get(f"/folders/{mail.ids['sales_inbox']}").text
    assert "→ Ola" in listing
    assert re.search(r'class="thread[^"]* handled"', listing)
    assert "Reopen" in client.get(thread).text


def test_contact_page_shows_data_people_and_history_newest_first(app, mail):
    page = login(app, "admin@firma.test").get(f"/contacts/{mail.ids['acme']}").text
    assert "Acme Sp. z o.o." in page and "jan@acme.test" in page
    assert page.index("Poufne: wynagrodzenia") < page.index("Zamówienie 17/2026")


def test_search_finds_words_in_body_subject_address_and_attachment_name(app, mail):
    client = login(app, "admin@firma.test")
    assert "Zamówienie 17/2026" in client.get("/search?q=fakture").text
    assert "Zamówienie 17/2026" in client.get("/search?q=zamowienie").text
    assert "Oferta współpracy" in client.get("/search?q=piotr@nowy.test").text
    by_file = client.get("/search?q=zolte").text  # "Zamówienie żółte.pdf"
    assert "Proszę o fakturę" in by_file and "Faktura w załączniku" not in by_file
    assert "Nothing found" in client.get("/search?q=nieistniejacesłowo").text


def test_search_filters_narrow_the_hits(app, mail):
    client = login(app, "admin@firma.test")
    ids = mail.ids
    with_attachment = client.get("/search?q=faktur&attachment=1").text
    assert "Proszę o fakturę" in with_attachment
    assert "Faktura w załączniku" not in with_attachment
    unread = client.get("/search?unread=1").text
    assert "Faktura w załączniku" not in unread and "Chcemy" in unread
    in_folder = client.get(f"/search?q=faktur&folder={ids['sales_inbox']}").text
    assert "Faktura w załączniku" not in in_folder
    by_contact = client.get(f"/search?contact={ids['acme']}").text
    assert "Chcemy" not in by_contact and "Proszę o fakturę" in by_contact
    later = client.get("/search?q=faktur&since=2026-11-02&until=2026-11-02").text
    assert "Proszę o fakturę" in later
    assert "Nothing found" in client.get("/search?q=faktur&since=2026-11-03").text


def test_to_assign_creates_contacts_in_bulk_and_links_their_mail(app, mail, settings):
    client = login(app, "admin@firma.test")
    assert "piotr@nowy.test" in client.get("/to-assign").text
    answer = client.post(
        "/to-assign",
        data={
            "address": ["piotr@nowy.test", "anna@unknown.test"],
            "action": "create",
            "csrf": csrf_of(client, "/to-assign"),
        },
    )
    assert "piotr@nowy.test" not in answer.text.split("<table")[1]
    session = session_factory(settings.effective_database_url)()
    linked = session.query(MessageContact).filter_by(message_id=mail.ids["unknown"])
    assert linked.count() == 1
    session.close()


def test_names_and_subjects_from_mail_are_escaped_everywhere(app, settings):
    session = session_factory(settings.effective_database_url)()
    build = MailBuilder(session, settings)
    build.account("sales")
    evil = "<script>alert(1)</script>"
    build.message(
        "sales/inbox",
        build.thread(f"Temat {evil}"),
        sender=(f"Zły {evil}", "zly@evil.test"),
        text=f"Treść {evil}",
        attachments=[(f"{evil}.pdf", "application/pdf", b"x")],
    )
    from mailservice.users.service import add_user

    add_user(session, "a@firma.test", "correct horse battery", role="admin")
    session.commit()
    folder = build.folders["sales/inbox"].id
    session.close()
    client = login(app, "a@firma.test")
    for page in (f"/folders/{folder}", "/threads/1", "/search?q=temat", "/to-assign"):
        html = client.get(page).text
        assert "<script>alert" not in html, page
        assert "&lt;script&gt;" in html, page


def test_search_gives_the_same_hits_whichever_plan_it_takes(app, mail, monkeypatch):
    client = login(app, "admin@firma.test")
    monkeypatch.setattr("mailservice.inbox.search.MANY_HITS", 1)
    walked = client.get("/search?q=faktur").text
    monkeypatch.setattr("mailservice.inbox.search.MANY_HITS", 10**6)
    collected = client.get("/search?q=faktur").text
    assert _subjects(walked) == _subjects(collected)
    assert _subjects(walked) == ["Zamówienie 17/2026", "Zamówienie 17/2026"]


def test_an_id_too_large_for_the_database_is_not_found(app, mail):
    client = login(app, "ola@firma.test")

    too_large = "9" * 30
    for path in (f"/threads/{too_large}", f"/messages/{too_large}/raw"):
        assert client.get(path).status_code == 404
