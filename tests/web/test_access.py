"""Per-mailbox access: a user without the grant gets nothing through any route."""

from __future__ import annotations

import pytest

from tests.web.conftest import csrf_of, login


@pytest.fixture
def staff(app, mail):
    """Ola: staff with the sales mailbox only."""
    return login(app, "ola@firma.test")


@pytest.fixture
def nobody(app, mail):
    """A staff user with no mailbox at all."""
    return login(app, "nobody@firma.test")


def hidden_get_routes(ids) -> list[str]:
    return [
        f"/folders/{ids['support_inbox']}",
        f"/threads/{ids['secret']}",
        f"/messages/{ids['hidden']}/body",
        f"/messages/{ids['hidden']}/raw",
        f"/attachments/{ids['hidden_attachment']}",
        f"/attachments/{ids['hidden_attachment']}?preview=1",
        f"/search?folder={ids['support_inbox']}",
        f"/search?account={ids['support']}&q=tajne",
    ]


def test_staff_gets_not_found_for_every_route_into_an_ungranted_mailbox(staff, mail):
    for route in hidden_get_routes(mail.ids):
        answer = staff.get(route)
        assert answer.status_code == 404, route
        assert "Tajne" not in answer.text and "płace" not in answer.text, route


def test_staff_cannot_act_on_mail_of_an_ungranted_mailbox(staff, mail):
    ids = mail.ids
    token = csrf_of(staff)
    posts = [
        (f"/messages/{ids['hidden']}/flags", {"change": "read"}),
        (
            f"/messages/{ids['hidden']}/move",
            {"to": "trash", "location_id": ids["hidden_location"]},
        ),
        (f"/messages/{ids['hidden']}/remote", {}),
        (f"/threads/{ids['secret']}/assign", {"user_id": ids["staff"]}),
        (f"/threads/{ids['secret']}/handled", {"handled": "1"}),
    ]
    for route, data in posts:
        answer = staff.post(route, data={**data, "csrf": token})
        assert answer.status_code == 404, route


def test_staff_cannot_move_a_granted_message_into_an_ungranted_folder(staff, mail):
    ids = mail.ids
    answer = staff.post(
        f"/messages/{ids['first']}/move",
        data={
            "to": "folder",
            "folder_id": ids["support_inbox"],
            "location_id": ids["first_location"],
            "csrf": csrf_of(staff),
        },
    )
    assert answer.status_code == 404


def test_search_never_finds_mail_of_an_ungranted_mailbox(staff, mail):
    found = staff.get("/search?q=tajne").text
    assert "Poufne" not in found and "Tajne" not in found
    assert "Nothing found" in found or "Nic nie znaleziono" in found


def test_contact_history_shows_only_threads_of_granted_mailboxes(staff, app, mail):
    page = staff.get(f"/contacts/{mail.ids['acme']}").text
    assert "Zamówienie 17/2026" in page
    assert "Poufne" not in page
    admin_page = (
        login(app, "admin@firma.test").get(f"/contacts/{mail.ids['acme']}").text
    )
    assert "Poufne" in admin_page


def test_counts_and_folder_list_leave_out_ungranted_mailboxes(staff, mail):
    counts = staff.get("/counts").json()
    assert str(mail.ids["sales_inbox"]) in counts
    assert str(mail.ids["support_inbox"]) not in counts
    assert "support" not in staff.get(f"/folders/{mail.ids['sales_inbox']}").text


def test_to_assign_lists_and_accepts_only_senders_of_granted_mail(staff, mail):
    page = staff.get("/to-assign").text
    assert "piotr@nowy.test" in page
    assert "anna@unknown.test" not in page
    answer = staff.post(
        "/to-assign",
        data={
            "address": "anna@unknown.test",
            "action": "create",
            "csrf": csrf_of(staff),
        },
    )
    assert "nie ma na Twojej liście do przypisania" in answer.text


def test_user_without_grants_sees_no_mailbox_and_no_mail(nobody, mail):
    home = nobody.get("/", follow_redirects=True)
    assert home.status_code == 200
    assert "/folders/" not in home.text
    assert nobody.get("/counts").json() == {}
    for route in hidden_get_routes(mail.ids) + [
        f"/threads/{mail.ids['order']}",
        f"/messages/{mail.ids['first']}/raw",
        f"/attachments/{mail.ids['first_attachment']}",
    ]:
        assert nobody.get(route).status_code == 404, route
    assert "Zamówienie" not in nobody.get("/search?q=faktura").text


def test_admin_reads_every_mailbox(app, mail):
    admin = login(app, "admin@firma.test")
    assert admin.get(f"/threads/{mail.ids['secret']}").status_code == 200
    assert (
        admin.get(f"/attachments/{mail.ids['hidden_attachment']}").content
        == b"PK secret"
    )


def test_pages_without_login_redirect_to_login_and_posts_are_refused(app, mail):
    from starlette.testclient import TestClient

    anonymous = TestClient(app, follow_redirects=False)
    answer = anonymous.get(f"/threads/{mail.ids['order']}")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=/threads/")
    assert (
        anonymous.get(f"/attachments/{mail.ids['first_attachment']}").status_code == 303
    )
    assert anonymous.post(f"/threads/{mail.ids['order']}/handled").status_code == 403
