"""The inbox in a real browser (Debian's Chromium through Playwright)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from mailservice.db.session import session_factory
from mailservice.users.service import add_user
from tests.servers.dovecot import dovecot  # noqa: F401  (fixture)
from tests.web.browser import browser_page, live_server, log_in
from tests.web.builders import MailBuilder
from tests.web.conftest import PASSWORD
from tests.web.hostile import HOSTILE_BODIES
from tests.web.imap_mail import imap_mailbox


def test_log_in_open_folder_and_thread_search_and_assign_a_sender(settings, mail):
    with live_server(settings) as base, browser_page(base) as (page, watch):
        log_in(page, "ola@firma.test", PASSWORD)
        page.click("aside >> text=Odebrane")
        page.wait_for_load_state("load")  # app.js (the keys) runs once loaded
        expect(page.locator(".thread")).to_have_count(2)
        page.keyboard.press("j")
        page.keyboard.press("j")  # the second thread, the order (the offer is newer)
        page.keyboard.press("Enter")
        page.wait_for_url("**/threads/*")
        expect(page.locator("h1")).to_have_text("Zamówienie 17/2026")
        expect(page.locator("section.message")).to_have_count(2)
        expect(page.locator("text=Faktura w załączniku")).to_be_visible()

        page.fill("header input[name=q]", "współpracować")
        page.press("header input[name=q]", "Enter")
        page.wait_for_url("**/search?q=*")
        expect(page.locator(".hit")).to_have_count(1)

        page.click("text=Do przypisania")
        page.check("input[value='piotr@nowy.test']")
        page.click("text=Utwórz kontrahenta z każdego")
        expect(page.locator("text=Przypisano 1 adres.")).to_be_visible()
        page.goto(f"/folders/{mail.ids['sales_inbox']}")
        expect(page.locator(".thread >> text=nowy.test")).to_have_count(1)
        assert watch.remote_requests == [] and watch.dialogs == []


@pytest.mark.imap
def test_mark_read_and_move_a_message_then_see_it_moved_on_dovecot(settings, dovecot):  # noqa: F811
    with (
        imap_mailbox(settings, dovecot) as box,
        live_server(settings) as base,
        browser_page(base) as (page, watch),
    ):
        log_in(page, "admin@firma.test", PASSWORD)
        page.goto(f"/folders/{box.ids['inbox']}")
        expect(page.locator(".thread.unread")).to_have_count(2)
        page.click("text=Faktura 1/11")
        page.click("button:has-text('Oznacz jako przeczytane')")
        page.wait_for_selector("button:has-text('Oznacz jako nieprzeczytane')")
        assert "\\Seen" in box.flags("INBOX", box.uids("INBOX")[0])

        page.select_option("select[name=folder_id]", label="Archiwum")
        page.click("form.move button[value=folder]")
        page.wait_for_selector(".folder-chip:has-text('Archiwum')")
        assert box.subjects("Archive") == ["Faktura 1/11"]
        assert box.subjects("INBOX") == ["Reklamacja 7"]
        page.goto(f"/folders/{box.ids['inbox']}")
        expect(page.locator(".thread")).to_have_count(1)
        assert watch.dialogs == []


def _hostile_threads(settings) -> dict[str, int]:
    session = session_factory(settings.effective_database_url)()
    build = MailBuilder(session, settings)
    build.account("sales")
    threads = {}
    for name, html in HOSTILE_BODIES.items():
        message = build.message(
            "sales/inbox",
            build.thread(f"Hostile: {name}"),
            html=html,
            sender=("Atak", "atak@evil.test"),
        )
        threads[name] = message.thread_id
    add_user(session, "a@firma.test", PASSWORD, role="admin")
    session.commit()
    session.close()
    return threads


def test_hostile_messages_run_no_script_and_load_nothing_remote(settings):
    threads = _hostile_threads(settings)
    with live_server(settings) as base, browser_page(base) as (page, watch):
        log_in(page, "a@firma.test", PASSWORD)
        survivors = {}
        for name, thread_id in threads.items():
            page.goto(f"/threads/{thread_id}")
            frame = page.frame_locator("iframe.mail-frame")
            frame.locator("body").wait_for(state="attached")
            page.wait_for_load_state("load")
            found = page.frames[1].evaluate(
                "() => [...document.body.querySelectorAll("
                "'script,iframe,object,embed,form,svg,math,meta,base,link,style,"
                "template,input,video,audio')].map(e => e.tagName)"
            )
            if found:
                survivors[name] = found
        page.wait_for_timeout(300)  # let late loads (fonts, refresh) show up
        assert watch.dialogs == []
        assert watch.remote_requests == []
        assert survivors == {}
        assert not [line for line in watch.console if "Blocked script" in line]


def test_remote_images_load_only_after_the_user_asks(settings):
    session = session_factory(settings.effective_database_url)()
    build = MailBuilder(session, settings)
    build.account("sales")
    message = build.message(
        "sales/inbox",
        build.thread("Newsletter"),
        sender=("Sklep", "sklep@shop.test"),
        html='<p>Promocja</p><img src="https://images.shop.test/banner.png">',
    )
    add_user(session, "a@firma.test", PASSWORD, role="admin")
    session.commit()
    thread_id = message.thread_id
    session.close()
    with live_server(settings) as base, browser_page(base) as (page, watch):
        log_in(page, "a@firma.test", PASSWORD)
        page.goto(f"/threads/{thread_id}")
        page.frame_locator("iframe.mail-frame").locator("text=Promocja").wait_for()
        page.wait_for_timeout(300)
        assert watch.remote_requests == []
        page.click("text=Pokaż obrazy z sieci")
        page.frame_locator("iframe.mail-frame").locator("img").wait_for(
            state="attached"
        )
        page.wait_for_timeout(300)
        assert watch.remote_requests == ["https://images.shop.test/banner.png"]
