"""Message templates and signatures: shipped defaults, validation with lines,
versions with author, revert, sandbox, and edits seen by the next render."""

from __future__ import annotations

import pytest

from mailservice.accounts.service import add_account
from mailservice.errors import TemplateError, TemplateValidationError
from mailservice.templating.fields import SAMPLE, build_context
from mailservice.templating.signatures import (
    render_signature_version,
    revert_signature,
    save_signature_version,
    signature_for,
    signature_versions,
)
from mailservice.templating.store import (
    get_template,
    list_templates,
    render_template,
    render_template_preview,
    revert_template,
    save_template_version,
    versions,
)
from mailservice.templating.validation import check_template
from mailservice.users.models import User


def _user(session, email="admin@firma.test") -> int:
    user = User(email=email, name="Ala Admin", role="admin", password_hash="x")
    session.add(user)
    session.flush()
    return user.id


def test_shipped_defaults_load_once_in_polish_and_english(session):
    names = {(t.name, t.locale) for t in list_templates(session)}
    again = list_templates(session)

    assert {("invoice", "pl"), ("invoice", "en"), ("payment_reminder", "pl")} <= names
    assert len(again) == len(names)


def test_invoice_template_renders_contact_and_document_fields(session):
    template = get_template(session, "invoice", "pl")
    rendered = render_template(session, template.id, build_context(**SAMPLE))

    assert rendered.subject == "Faktura FS/2026/11/042 od Firma S.A."
    assert "Dzień dobry Anna" in rendered.html
    assert "FS/2026/11/042" in rendered.text and "<" not in rendered.text


def test_syntax_error_is_reported_with_its_line():
    problems = check_template("Oferta", "<p>a</p>\n<p>{% if contact.name %}</p>\n")
    assert [(p.part, p.line) for p in problems] == [("body", 2)]
    assert "endif" in problems[0].message


def test_unknown_field_and_attribute_are_reported_with_their_lines():
    problems = check_template(
        "Faktura {{ document.numer }}",
        "<p>{{ contact.name }}</p>\n<p>{{ klient.nazwa }}</p>\n"
        "<p>{{ person['age'] }}</p>",
    )

    found = {(p.part, p.line, p.message.split(" (")[0]) for p in problems}
    assert found == {
        ("subject", 1, "unknown field document.numer"),
        ("body", 2, "unknown field 'klient'"),
        ("body", 3, "unknown field person.age"),
    }


def test_sandbox_refuses_internals_on_save(session):
    template = get_template(session, "general", "en")
    with pytest.raises(TemplateValidationError, match="unsafe"):
        save_template_version(
            session, template.id, "x", "{{ contact.name.__class__.__mro__ }}", None
        )


def test_save_keeps_history_with_author_and_render_uses_the_new_version(session):
    template = get_template(session, "general", "pl")
    author = _user(session)
    before = render_template(session, template.id, build_context(**SAMPLE))

    saved = save_template_version(
        session, template.id, "Nowy temat {{ contact.city }}", "<p>Treść 2</p>", author
    )
    after = render_template(session, template.id, build_context(**SAMPLE))

    assert saved.number == 2 and saved.author_user_id == author
    assert after.subject == "Nowy temat Warszawa" and after.version_id == saved.id
    assert after.subject != before.subject
    assert [v.number for v in versions(session, template.id)] == [2, 1]


def test_revert_adds_a_version_copying_the_old_one(session):
    template = get_template(session, "offer", "en")
    first = versions(session, template.id)[0]
    save_template_version(session, template.id, "Changed", "<p>changed</p>", None)

    reverted = revert_template(session, template.id, first.id, None)

    assert reverted.number == 3 and reverted.note == "revert to version 1"
    assert reverted.html_source == first.html_source
    rendered = render_template(session, template.id, build_context(**SAMPLE))
    assert rendered.subject.startswith("Offer FS/2026/11/042")


def test_invalid_edit_is_not_saved(session):
    template = get_template(session, "invoice", "en")
    with pytest.raises(TemplateValidationError) as caught:
        save_template_version(session, template.id, "{{ oops }}", "<p></p>", None)

    assert caught.value.problems[0].line == 1
    assert len(versions(session, template.id)) == 1


def test_preview_renders_sample_data_or_lists_problems():
    good = render_template_preview("Re: {{ contact.name }}", "<p>{{ person.name }}</p>")
    bad = render_template_preview("Re", "<p>{{ person.nam }}</p>")

    assert good.rendered.subject == "Re: Przykładowa Firma Sp. z o.o."
    assert good.rendered.text.strip() == "Anna Kowalska"
    assert bad.rendered is None and "person.nam" in bad.problems[0].message


def test_field_value_with_line_break_cannot_break_the_subject():
    preview = render_template_preview("Oferta {{ contact.name }}", "<p></p>")
    context = build_context(contact={"name": "Zła\r\nBcc: x@evil.test"})
    from mailservice.templating.rendering import render_subject

    assert "\n" not in render_subject("Oferta {{ contact.name }}", context)
    assert preview.problems == []


def test_render_error_names_the_part_and_line():
    from mailservice.templating.rendering import render_source

    with pytest.raises(TemplateError, match="body line 2"):
        render_source("ok\n{{ missing.x }}", {}, html=True, what="body")


def _account(session, settings) -> int:
    account = add_account(
        session,
        settings,
        name="biuro",
        imap_host="127.0.0.1",
        imap_port=1,
        imap_security="none",
        username="biuro@firma.test",
        secret="s",
        smtp_host="127.0.0.1",
        smtp_port=25,
        smtp_security="none",
    )
    return account.id


def test_signature_falls_back_from_user_to_account_default_to_shipped(
    session, settings
):
    account_id = _account(session, settings)
    user_id = _user(session, "jan@firma.test")

    shipped = signature_for(session, account_id, user_id, "pl")
    assert "Z poważaniem" in shipped.html_source
    own = save_signature_version(
        session, account_id, user_id, "<p>Jan</p>", "Jan", user_id
    )

    assert signature_for(session, account_id, user_id).id == own.id
    assert signature_for(session, account_id, None).id == shipped.id
    html, text = render_signature_version(shipped, build_context(**SAMPLE))
    assert "Jan Nowak" in html and text.startswith("-- \nZ poważaniem")


def test_signature_history_and_revert(session, settings):
    account_id = _account(session, settings)
    first = save_signature_version(session, account_id, None, "<p>v1</p>", "v1", None)
    save_signature_version(
        session, account_id, None, "<p>v2 {{ sender.name }}</p>", "", None
    )

    back = revert_signature(session, first.id, None)

    assert [v.number for v in signature_versions(session, first.signature_id)] == [
        3,
        2,
        1,
    ]
    assert back.html_source == "<p>v1</p>"
    with pytest.raises(TemplateValidationError, match="signature text line 1"):
        save_signature_version(
            session, account_id, None, "<p></p>", "{{ sender.fax }}", None
        )
