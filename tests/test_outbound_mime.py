"""Building outgoing messages: MIME structure, encodings, headers, no injection."""

from __future__ import annotations

import email
from email import policy

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from mailservice.config import Settings
from mailservice.errors import HeaderInjectionError
from mailservice.outbound import dkim as outbound_dkim
from mailservice.outbound.headers import (
    clean_header_value,
    format_address,
    make_message_id,
    split_address,
)
from mailservice.outbound.mime import Envelope, Part, build_message


def _envelope(**changes) -> Envelope:
    values = dict(
        message_id=make_message_id("firma.test"),
        from_name="Józef Żółć",
        from_address="jozef@firma.test",
        to=[("Anna Łęcka", "anna@klient.test")],
        cc=[],
        subject="Faktura za październik – żółw",
        html="<style>p { color: red }</style><p>Dzień dobry</p>",
        text="Dzień dobry\n",
    )
    values.update(changes)
    return Envelope(**values)


def _parse(raw: bytes):
    return email.message_from_bytes(raw, policy=policy.default)


def test_message_has_alternative_related_and_mixed_parts_in_order():
    raw = build_message(
        _envelope(html='<p>Logo <img src="cid:logo@firma"></p>'),
        [
            Part("logo.png", "image/png", b"\x89PNG", "logo@firma"),
            Part("faktura.pdf", "application/pdf", b"%PDF"),
        ],
    )
    message = _parse(raw)

    assert message.get_content_type() == "multipart/mixed"
    body, attachment = message.get_payload()
    assert body.get_content_type() == "multipart/alternative"
    text, related = body.get_payload()
    assert text.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    html, image = related.get_payload()
    assert (
        html.get_content_type() == "text/html" and image["Content-ID"] == "<logo@firma>"
    )
    assert attachment.get_filename() == "faktura.pdf"
    assert raw.count(b"MIME-Version") == 1


def test_non_ascii_names_subject_and_file_names_are_encoded():
    raw = build_message(
        _envelope(), [Part("żółta faktura.pdf", "application/pdf", b"x")]
    )
    head = raw.split(b"\r\n\r\n", 1)[0]

    assert head.isascii() and b"=?utf-8?" in head
    assert b"filename*=utf-8''%C5%BC%C3%B3%C5%82ta%20faktura.pdf" in raw
    message = _parse(raw)
    assert message["Subject"] == "Faktura za październik – żółw"
    assert message["From"].addresses[0].display_name == "Józef Żółć"
    assert next(message.iter_attachments()).get_filename() == "żółta faktura.pdf"


def test_css_is_inlined_and_the_style_block_removed():
    message = _parse(build_message(_envelope(), []))
    html = message.get_body(("html",)).get_content()

    assert "<style" not in html
    assert '<p style="color: red;">' in html


def test_reply_headers_and_automatic_mail_marker():
    raw = build_message(
        _envelope(
            in_reply_to="parent@klient.test",
            references="<root@klient.test> <parent@klient.test>",
            automatic=True,
        ),
        [],
    )
    message = _parse(raw)

    assert message["In-Reply-To"] == "<parent@klient.test>"
    assert message["References"] == "<root@klient.test> <parent@klient.test>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"].endswith("@firma.test>")


def test_manual_mail_is_not_marked_auto_submitted():
    assert _parse(build_message(_envelope(), []))["Auto-Submitted"] is None


@pytest.mark.parametrize("value", ["Hello\r\nBcc: victim@evil.test", "a\nb", "a\rb"])
def test_line_breaks_in_header_values_are_removed(value):
    cleaned = clean_header_value(value, field="subject")
    assert "\r" not in cleaned and "\n" not in cleaned


def test_line_break_in_subject_from_contact_data_cannot_add_a_header():
    raw = build_message(
        _envelope(
            subject="Oferta\r\nBcc: victim@evil.test",
            to=[("Zła\nFirma\r\nX-Evil: 1", "anna@klient.test")],
        ),
        [],
    )
    head = raw.split(b"\r\n\r\n", 1)[0].decode()

    assert "\r\nBcc:" not in head and "\r\nX-Evil:" not in head
    assert _parse(raw)["Bcc"] is None


@pytest.mark.parametrize(
    "address",
    [
        "anna@klient.test\r\nBcc: victim@evil.test",
        "anna@klient.test\nX: 1",
    ],
)
def test_line_break_in_an_address_is_refused(address):
    with pytest.raises(HeaderInjectionError, match="line break"):
        format_address("Anna", address, field="recipient")


@pytest.mark.parametrize("typed", ["not an address", "a@b", "<>", "anna@@klient.test"])
def test_malformed_address_is_refused_naming_the_field(typed):
    with pytest.raises(HeaderInjectionError, match="recipient"):
        split_address(typed, field="recipient")


def test_dkim_signature_verifies_with_the_public_key(tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    (tmp_path / "dkim.pem").write_bytes(pem)
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    settings = Settings(dkim_selector="mail", dkim_key_path=tmp_path / "dkim.pem")
    signed = outbound_dkim.sign(build_message(_envelope(), []), settings, "firma.test")

    def dns(name, timeout=5):
        import base64

        assert name == b"mail._domainkey.firma.test."
        return b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)

    assert signed.startswith(b"DKIM-Signature:")
    assert dkim.verify(signed, dnsfunc=dns)
    assert not dkim.verify(signed.replace(b"Dzie", b"Dxie"), dnsfunc=dns)
