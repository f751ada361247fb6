"""Actions in the inbox written back to the real Dovecot server, and conflicts."""

from __future__ import annotations

import pytest

from mailservice.db.session import session_factory
from mailservice.messages.models import MessageLocation
from tests.servers.dovecot import dovecot  # noqa: F401  (fixture)
from tests.web.conftest import csrf_of, login
from tests.web.imap_mail import imap_mailbox

pytestmark = pytest.mark.imap


@pytest.fixture
def box(settings, dovecot):  # noqa: F811
    with imap_mailbox(settings, dovecot) as mailbox:
        yield mailbox


def _locations(settings, message_id: int) -> list[MessageLocation]:
    session = session_factory(settings.effective_database_url)()
    rows = session.query(MessageLocation).filter_by(message_id=message_id).all()
    session.close()
    return rows


def _post(client, route: str, **data):
    answer = client.post(route, data={**data, "csrf": csrf_of(client)})
    assert answer.status_code in (303, 400), answer.text
    return answer


def test_mark_read_sets_seen_on_the_server_and_here(app, box, settings):
    client = login(app, "admin@firma.test")
    _post(client, f"/messages/{box.ids['first']}/flags", change="read")
    uid = _locations(settings, box.ids["first"])[0].uid
    assert "\\Seen" in box.flags("INBOX", uid)
    assert "\\Seen" in _locations(settings, box.ids["first"])[0].flags
    _post(client, f"/messages/{box.ids['first']}/flags", change="unread")
    assert "\\Seen" not in box.flags("INBOX", uid)


def test_flag_set_meanwhile_on_the_server_survives_a_change_here(app, box, settings):
    uid = _locations(settings, box.ids["first"])[0].uid
    with box.server.client(box.user) as other_client:
        other_client.select_folder("INBOX")
        other_client.add_flags([uid], [b"\\Flagged", b"$Pilne"])
    client = login(app, "admin@firma.test")
    _post(client, f"/messages/{box.ids['first']}/flags", change="read")
    assert {"\\Seen", "\\Flagged", "$Pilne"} <= box.flags("INBOX", uid)
    stored = set(_locations(settings, box.ids["first"])[0].flags.split())
    assert {"\\Seen", "\\Flagged", "$Pilne"} <= stored


def test_move_to_archive_moves_it_on_the_server_and_records_the_new_copy(
    app, box, settings
):
    client = login(app, "admin@firma.test")
    _post(
        client,
        f"/messages/{box.ids['first']}/move",
        to="archive",
        location_id=box.ids["first_location"],
    )
    assert box.subjects("INBOX") == ["Reklamacja 7"]
    assert box.subjects("Archive") == ["Faktura 1/11"]
    old, new = sorted(_locations(settings, box.ids["first"]), key=lambda l: l.id)
    assert old.deleted_at is not None and new.deleted_at is None
    assert new.folder_id == box.ids["archive"] and new.uid == box.uids("Archive")[0]


def test_delete_moves_to_trash_on_the_server(app, box, settings):
    client = login(app, "admin@firma.test")
    _post(
        client,
        f"/messages/{box.ids['second']}/move",
        to="trash",
        location_id=box.ids["second_location"],
    )
    assert box.subjects("Trash") == ["Reklamacja 7"]
    assert box.subjects("INBOX") == ["Faktura 1/11"]


def test_message_moved_meanwhile_on_the_server_is_reported_and_not_lost(
    app, box, settings
):
    uid = _locations(settings, box.ids["first"])[0].uid
    with box.server.client(box.user) as other_client:
        other_client.select_folder("INBOX")
        other_client.move([uid], "Sent")
    client = login(app, "admin@firma.test")
    answer = _post(
        client,
        f"/messages/{box.ids['first']}/move",
        to="archive",
        location_id=box.ids["first_location"],
    )
    assert answer.status_code == 400
    assert "w międzyczasie wiadomość przeniesiono lub usunięto" in answer.text
    assert box.subjects("Sent") == ["Faktura 1/11"] and box.subjects("Archive") == []
    assert _locations(settings, box.ids["first"])[0].deleted_at is None
