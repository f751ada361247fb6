"""Login, sessions, CSRF, throttling and logout, and `mailservice user add`."""

from __future__ import annotations

from click.testing import CliRunner
from starlette.testclient import TestClient

from mailservice.cli.users import user_group
from mailservice.db.session import session_scope
from mailservice.users.service import check_login
from tests.web.conftest import CSRF_FIELD, PASSWORD, csrf_of, login


def _login_form(client: TestClient) -> str:
    return CSRF_FIELD.search(client.get("/login").text).group(1)


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(app, mail):
    client = TestClient(app, follow_redirects=False)
    answer = client.post(
        "/login",
        data={
            "email": "ola@firma.test",
            "password": "nope",
            "csrf": _login_form(client),
        },
    )
    assert answer.status_code == 401
    assert "ms_session" not in answer.cookies
    assert "Nieprawidłowy e-mail lub hasło" in answer.text


def test_login_sets_a_httponly_samesite_session_cookie(app, mail):
    client = TestClient(app, follow_redirects=False)
    answer = client.post(
        "/login",
        data={
            "email": "OLA@firma.test",
            "password": PASSWORD,
            "csrf": _login_form(client),
        },
    )
    cookie = answer.headers["set-cookie"].lower()
    assert answer.status_code == 303
    assert "ms_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie


def test_login_form_without_its_csrf_token_is_refused(app, mail):
    client = TestClient(app, follow_redirects=False)
    client.get("/login")
    answer = client.post(
        "/login", data={"email": "ola@firma.test", "password": PASSWORD}
    )
    assert answer.status_code == 403


def test_fifth_failure_locks_the_email_even_for_the_right_password(app, mail):
    client = TestClient(app, follow_redirects=False)
    for _ in range(5):
        client.post(
            "/login",
            data={
                "email": "ola@firma.test",
                "password": "bad",
                "csrf": _login_form(client),
            },
        )
    answer = client.post(
        "/login",
        data={
            "email": "ola@firma.test",
            "password": PASSWORD,
            "csrf": _login_form(client),
        },
    )
    assert answer.status_code == 429
    other = client.post(
        "/login",
        data={
            "email": "admin@firma.test",
            "password": PASSWORD,
            "csrf": _login_form(client),
        },
    )
    assert other.status_code == 303


def test_post_without_session_csrf_token_changes_nothing(app, mail):
    client = login(app, "ola@firma.test")
    thread = f"/threads/{mail.ids['order']}"
    assert client.post(f"{thread}/handled", data={"handled": "1"}).status_code == 403
    assert (
        client.post(
            f"{thread}/handled", data={"handled": "1", "csrf": "forged"}
        ).status_code
        == 403
    )
    assert (
        "Mark handled" in client.get(thread).text
        or "Oznacz jako załatwiony" in client.get(thread).text
    )


def test_logout_ends_the_session_for_that_cookie(app, mail):
    client = login(app, "ola@firma.test")
    cookie = client.cookies.get("ms_session")
    client.post("/logout", data={"csrf": csrf_of(client)})
    replay = TestClient(app, follow_redirects=False, cookies={"ms_session": cookie})
    assert replay.get("/counts").status_code == 303


def test_logout_everywhere_ends_every_session_of_the_user(app, mail):
    laptop, phone = login(app, "ola@firma.test"), login(app, "ola@firma.test")
    other_user = login(app, "admin@firma.test")
    laptop.post("/logout-everywhere", data={"csrf": csrf_of(laptop)})
    assert phone.get("/counts").status_code == 303
    assert other_user.get("/counts").status_code == 200


def test_language_is_chosen_per_user(app, mail):
    ola = login(app, "ola@firma.test")
    assert "Odebrane" in ola.get(f"/folders/{mail.ids['sales_inbox']}").text
    ola.post("/language", data={"locale": "en", "csrf": csrf_of(ola), "next": "/"})
    assert ">Inbox<" in ola.get(f"/folders/{mail.ids['sales_inbox']}").text
    admin = login(app, "admin@firma.test")
    assert ">Inbox<" in admin.get(f"/folders/{mail.ids['sales_inbox']}").text


def test_user_add_command_takes_the_password_from_the_environment(
    settings, monkeypatch
):
    monkeypatch.setattr("mailservice.cli.context.get_settings", lambda: settings)
    result = CliRunner().invoke(
        user_group,
        ["add", "Kasia@Firma.test", "--role", "manager"],
        env={"MAILSERVICE_USER_PASSWORD": "a long enough secret"},
    )
    assert result.exit_code == 0, result.output
    with session_scope(settings.effective_database_url) as session:
        user = check_login(session, "kasia@firma.test", "a long enough secret")
        assert user is not None and user.role == "manager"
        assert user.password_hash.startswith("$argon2id$")


def test_user_add_command_refuses_a_short_password_and_a_bad_role(
    settings, monkeypatch
):
    monkeypatch.setattr("mailservice.cli.context.get_settings", lambda: settings)
    short = CliRunner().invoke(
        user_group, ["add", "x@firma.test"], env={"MAILSERVICE_USER_PASSWORD": "short"}
    )
    assert short.exit_code == 1 and "at least 10 characters" in short.output
    role = CliRunner().invoke(
        user_group,
        ["add", "x@firma.test", "--role", "boss"],
        env={"MAILSERVICE_USER_PASSWORD": "long enough pass"},
    )
    assert role.exit_code == 2


def test_an_expired_session_no_longer_logs_in_and_is_cleared_later(app, mail, settings):
    from datetime import timedelta

    from mailservice.db.session import session_factory
    from mailservice.users.models import UserSession

    client = login(app, "ola@firma.test")
    session = session_factory(settings.effective_database_url)()
    for row in session.query(UserSession):
        row.expires_at = row.expires_at - timedelta(days=15)
    session.commit()
    assert client.get("/counts").status_code == 303
    login(app, "ola@firma.test")
    assert session.query(UserSession).count() == 1
    session.close()
