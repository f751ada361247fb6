"""Mail shown safely: sanitised HTML in a locked-down frame, safe downloads."""

from __future__ import annotations

import base64

from mailservice.accounts.models import Folder
from mailservice.db.session import session_factory
from mailservice.users.service import add_user
from tests.web.builders import MailBuilder
from tests.web.conftest import PASSWORD, csrf_of, login

PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
HOSTILE = (
    '<p onclick="steal()">Hej <a href="javascript:alert(1)">klik</a>'
    '<img src="https://tracker.example/p.gif"><img src="cid:logo1">'
    '<span style="background:url(https://tracker.example/bg.png)">tło</span></p>'
    '<script>alert(1)</script><form action="https://evil.example"><input></form>'
)


def _one_html_message(settings, html: str, **extra) -> dict:
    session = session_factory(settings.effective_database_url)()
    build = MailBuilder(session, settings)
    build.account("sales")
    message = build.message(
        "sales/inbox",
        build.thread("Newsletter"),
        html=html,
        sender=("Sklep", "sklep@shop.test"),
        **extra,
    )
    add_user(session, "a@firma.test", PASSWORD, role="admin")
    session.commit()
    ids = {
        "message": message.id,
        "thread": message.thread_id,
        "attachments": [a.id for a in message.attachments],
    }
    session.close()
    return ids


def test_html_body_is_sanitised_and_framed_under_a_strict_policy(app, settings):
    ids = _one_html_message(settings, HOSTILE, inline_images=[("logo1", PIXEL)])
    client = login(app, "a@firma.test")
    body = client.get(f"/messages/{ids['message']}/body")
    policy = body.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "sandbox" in policy
    assert "img-src data:;" in policy and "script-src" not in policy
    assert body.headers["x-content-type-options"] == "nosniff"
    html = body.text
    for bad in ("onclick", "javascript:", "<script", "<form", "tracker.example"):
        assert bad not in html, bad
    assert "data:image/png;base64," in html  # the cid: image from its own part
    assert body.headers["x-remote-blocked"] == "1"
    thread = client.get(f"/threads/{ids['thread']}").text
    assert 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in thread
    assert "allow-scripts" not in thread and "allow-same-origin" not in thread


def test_remote_images_load_only_when_asked_per_message_or_per_sender(app, settings):
    ids = _one_html_message(settings, HOSTILE)
    client = login(app, "a@firma.test")
    body = f"/messages/{ids['message']}/body"
    asked = client.get(f"{body}?remote=1")
    assert "https://tracker.example/p.gif" in asked.text
    assert "img-src data: https: http:" in asked.headers["content-security-policy"]
    assert "tracker.example" not in client.get(body).text
    client.post(f"/messages/{ids['message']}/remote", data={"csrf": csrf_of(client)})
    assert "https://tracker.example/p.gif" in client.get(body).text


def test_plain_text_is_escaped_and_its_links_made_clickable(app, settings):
    session = session_factory(settings.effective_database_url)()
    build = MailBuilder(session, settings)
    build.account("sales")
    build.message(
        "sales/inbox",
        build.thread("Tekst"),
        text="Zobacz https://firma.test/a?b=1&c=2 <b>nie pogrubiaj</b>\n"
        "W dniu 1.12.2026 Jan pisze:\n> stara treść",
    )
    add_user(session, "a@firma.test", PASSWORD, role="admin")
    session.commit()
    session.close()
    page = login(app, "a@firma.test").get("/threads/1").text
    assert '<a href="https://firma.test/a?b=1&amp;c=2"' in page
    assert "&lt;b&gt;nie pogrubiaj&lt;/b&gt;" in page
    assert '<details class="quoted"><summary>' in page


def test_attachment_downloads_under_its_utf8_name_with_safe_headers(app, mail):
    client = login(app, "admin@firma.test")
    answer = client.get(f"/attachments/{mail.ids['first_attachment']}")
    disposition = answer.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''Zam%C3%B3wienie%20%C5%BC%C3%B3%C5%82te.pdf" in disposition
    assert 'filename="Zam_wienie ___te.pdf"' in disposition
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["content-type"] == "application/octet-stream"
    assert answer.content == b"%PDF-1.4 test"
    preview = client.get(f"/attachments/{mail.ids['first_attachment']}?preview=1")
    assert preview.headers["content-type"] == "application/pdf"
    assert preview.headers["content-disposition"].startswith("inline;")


def test_svg_attachment_is_never_previewed_as_a_document(app, settings):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    ids = _one_html_message(
        settings, "<p>x</p>", attachments=[("obraz.svg", "image/svg+xml", svg)]
    )
    client = login(app, "a@firma.test")
    answer = client.get(f"/attachments/{ids['attachments'][0]}?preview=1")
    assert answer.headers["content-type"] == "application/octet-stream"
    assert answer.headers["content-disposition"].startswith("attachment;")
    assert "sandbox" in answer.headers["content-security-policy"]


def test_raw_source_is_plain_text_that_the_browser_will_not_render(app, mail):
    answer = login(app, "admin@firma.test").get(f"/messages/{mail.ids['first']}/raw")
    assert answer.headers["content-type"].startswith("text/plain")
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in answer.headers["content-security-policy"]
    assert b"Message-ID: <m1@klient.test>" in answer.content


def test_app_pages_forbid_inline_scripts_and_framing(app, mail):
    page = login(app, "admin@firma.test").get(f"/folders/{mail.ids['sales_inbox']}")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert page.headers["x-frame-options"] == "DENY"


def test_remote_image_offer_shows_only_for_mail_that_has_remote_content(app, settings):
    ids = _one_html_message(settings, '<p>Cennik</p><img src="https://cdn.test/a.png">')
    client = login(app, "a@firma.test")
    assert "Pokaż obrazy z sieci" in client.get(f"/threads/{ids['thread']}").text
    session = session_factory(settings.effective_database_url)()
    build = MailBuilder(session, settings)
    build.folders["sales/inbox"] = session.get(Folder, 1)
    plain = build.message("sales/inbox", build.thread("Bez obrazów"), html="<p>x</p>")
    session.commit()
    thread_id = plain.thread_id
    session.close()
    assert "Pokaż obrazy z sieci" not in client.get(f"/threads/{thread_id}").text
