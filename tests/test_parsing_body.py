"""Bodies and attachments: every corpus message parsed or refused with a reason.

Expected values were read off the raw files; sizes are checked against the stdlib's
other parser (policy.default), which decodes the same parts independently.
"""

import email
from email import policy
from functools import cache

import pytest

from mailservice.errors import MessageParseError
from mailservice.parsing.body import parse_body, part_bytes
from tests.corpus import corpus_message, corpus_messages

MIKEL = "mikel-mail/spec/fixtures/emails"
MIMEKIT = "MimeKit/UnitTests/TestData"
FLANKER = "flanker/tests/fixtures/messages"
NOT_MESSAGES = {
    "SpamScope-mail-parser/tests/mails/mail_outlook_1",
    f"{MIMEKIT}/mbox/unmunged.mbox.txt#1",
}


@cache
def _corpus() -> dict[str, bytes]:
    return dict(corpus_messages())


def _body(label: str):
    return parse_body(corpus_message(label))


def _by_path(body):
    return {a.part_path: a for a in body.attachments}


@pytest.mark.parametrize("label", sorted(_corpus()))
def test_every_corpus_message_parses_or_is_refused_with_a_reason(label):
    try:
        body = parse_body(_corpus()[label])
    except MessageParseError as exc:
        assert label in NOT_MESSAGES
        assert str(exc)
        return

    assert label not in NOT_MESSAGES
    assert len(body.snippet) <= 201
    assert "\x00" not in (body.text or "") + (body.html or "")


def test_winmail_dat_is_noted_and_listed():
    raw = corpus_message(f"{MIMEKIT}/tnef/rich-text.eml")
    stdlib = email.message_from_bytes(raw, policy=policy.default)
    tnef = next(stdlib.iter_attachments())

    body = parse_body(raw)

    assert body.has_winmail_dat
    assert body.has_attachments
    [attachment] = body.attachments
    assert (attachment.part_path, attachment.filename) == ("2", "winmail.dat")
    assert attachment.content_type == "application/ms-tnef"
    assert attachment.size == len(tnef.get_content())


def test_forwarded_message_is_an_attachment_named_by_its_subject():
    raw = corpus_message(f"{MIMEKIT}/messages/simple-embedded-message.eml")

    body = parse_body(raw)
    content_type, filename, data = part_bytes(raw, "2")

    assert body.text == "This is the message body.\n"
    assert "embedded message body" not in body.text
    [forwarded] = body.attachments
    assert (forwarded.content_type, forwarded.filename) == (
        "message/rfc822", "embedded message.eml")
    assert (content_type, filename) == ("message/rfc822", "embedded message.eml")
    assert forwarded.size == len(data)
    assert parse_body(data).text == "This is the embedded message body.\n"


def test_inline_cid_image_beside_a_forwarded_message():
    label = "attachment_emails/attachment_message_rfc822_inline_image.eml"
    raw = corpus_message(f"{MIKEL}/{label}")

    parts = _by_path(parse_body(raw))
    content_type, filename, data = part_bytes(raw, "1.2")

    image = parts["1.2"]
    assert image.content_id == "emedfeb92f-a786-4718-a446-98db8afb53fb@kronos"
    assert image.is_inline
    assert (content_type, filename) == ("image/png", "img.png")
    assert data.startswith(b"\x89PNG") and len(data) == image.size
    assert parts["2"].content_type == "message/rfc822"
    assert not parts["2"].is_inline


def test_message_with_only_an_inline_image_has_no_attachment_to_show():
    body = _body(f"{MIMEKIT}/dkim/related.msg")

    [image] = body.attachments
    assert (image.content_id, image.is_inline) == ("ii_15071bf7ff349334", True)
    assert not body.has_attachments


@pytest.mark.parametrize("label, path, filename", [
    # filename*0*=utf-8''%E3%81%8B...; filename*1*=...  (RFC 2231 continuations)
    (f"{MIKEL}/multi_charset/japanese_attachment_long_name.eml", "1",
     "かきくけこ" * 5 + ".txt"),
    # filename*=ISO-8859-1''Eelanal%FC%FCsi%20p%E4ring.jpg
    (f"{MIKEL}/attachment_emails/attachment_with_quoted_filename.eml", "1",
     "Eelanalüüsi päring.jpg"),
    # name="=?utf-8?B?...?=" only (encoded words in a parameter)
    (f"{MIKEL}/attachment_emails/attachment_with_base64_encoded_name.eml", "2",
     "This is a test.pdf"),
    # filename=ciële.txt in raw UTF-8
    (f"{MIKEL}/attachment_emails/attachment_nonascii_filename.eml", "2", "ciële.txt"),
])
def test_attachment_names_are_decoded(label, path, filename):
    assert _by_path(_body(label))[path].filename == filename


def test_missing_final_boundary_keeps_the_body():
    body = _body(f"{MIMEKIT}/dkim/multipart-no-end-boundary.msg")

    assert body.text == "Multipart message without closing boundary\n"
    assert "Multipart message without closing boundary<br>" in body.html
    assert any("CloseBoundaryNotFound" in defect for defect in body.defects)


def test_text_without_boundaries_is_shown_as_the_text_it_is():
    body = _body(f"{FLANKER}/missing-boundaries.eml")

    assert body.text.startswith("Hi This is a broken message\n")
    assert "Subject: Messy part" in body.text
    assert body.attachments == []


@pytest.mark.parametrize("label, expected", [
    # charset=X-UNKNOWN over UTF-8 bytes
    (f"{MIKEL}/plain_emails/raw_email10.eml", "Envoyé par le service de messagerie"),
    (f"{MIKEL}/multi_charset/ks_c_5601-1987.eml", "스티해"),
    (f"{MIKEL}/multi_charset/japanese_shift_jis.eml", "このメールはテスト用"),
    (f"{MIKEL}/multi_charset/japanese_iso_2022.eml", "すみません。"),
])
def test_body_charsets_known_and_unknown(label, expected):
    assert expected in _body(label).text


def test_html_only_message_gets_text_and_snippet_from_its_html():
    body = _body(f"{MIMEKIT}/messages/body.2.txt")

    assert body.html == "<html>This is an <b>html</b> body.</html>"
    assert body.text == body.snippet == "This is an html body."


def test_snippet_collapses_whitespace_and_skips_quoted_lines():
    raw = (b"From: a@b.pl\r\nSubject: Re: x\r\n\r\n"
           b"Dzi\xc4\x99kuj\xc4\x99,\r\n\r\n   wszystko   jasne.\r\n> cytat\r\n")

    assert parse_body(raw).snippet == "Dziękuję, wszystko jasne."


# Handcrafted Polish mail -----------------------------------------------------------

POLISH_TEXT = "Dzień dobry, przypominamy o zaległości: 1 234,56 zł. Żółw"


def _single_part(content_type: bytes, body: bytes) -> bytes:
    return (b"From: biuro@firma.pl\r\nSubject: Faktura\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: " + content_type + b"\r\n"
            b"Content-Transfer-Encoding: 8bit\r\n\r\n" + body)


@pytest.mark.parametrize("label", [b"windows-1250", b"utf-8", b"x-unknown", b"ascii"])
def test_windows_1250_body_is_read_whatever_its_label(label):
    raw = _single_part(b"text/plain; charset=" + label, POLISH_TEXT.encode("cp1250"))

    assert parse_body(raw).text == POLISH_TEXT


def test_iso_8859_2_body_is_read():
    raw = _single_part(b"text/plain; charset=iso-8859-2",
                       POLISH_TEXT.encode("iso-8859-2"))

    assert parse_body(raw).text == POLISH_TEXT


def test_unlabelled_html_takes_its_meta_charset():
    html = f'<html><head><meta charset="windows-1250"></head><p>{POLISH_TEXT}</p>'
    raw = _single_part(b"text/html", html.encode("cp1250"))

    body = parse_body(raw)

    assert POLISH_TEXT in body.html
    assert body.text == POLISH_TEXT


def test_polish_attachment_name_in_rfc_2231():
    raw = "\r\n".join([
        "From: biuro@firma.pl",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="b"',
        "",
        "--b",
        "Content-Type: text/plain; charset=utf-8",
        "",
        "W załączeniu.",
        "--b",
        "Content-Type: application/pdf",
        "Content-Transfer-Encoding: base64",
        "Content-Disposition: attachment;",
        " filename*=utf-8''Faktura%20VAT%2012%2F2026%20%C5%BC%C3%B3%C5%82w.pdf",
        "",
        "JVBERi0xLjQK",
        "--b--",
        "",
    ]).encode("utf-8")
    name = "Faktura VAT 12_2026 żółw.pdf"

    body = parse_body(raw)
    content_type, filename, data = part_bytes(raw, "2")

    # The "/" of an invoice number must not make a folder of the name.
    assert body.attachments[0].filename == name
    assert (content_type, filename) == ("application/pdf", name)
    assert data == b"%PDF-1.4\n"
    assert body.text == "W załączeniu."


# Refusals ---------------------------------------------------------------------------

@pytest.mark.parametrize("raw, reason", [
    (b"", "empty"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), "Outlook .msg"),
    (b"\x00\x01\x02 binary junk\n\nmore", "no header field"),
])
def test_non_messages_raise_a_parse_error_with_the_reason(raw, reason):
    with pytest.raises(MessageParseError, match=reason):
        parse_body(raw)


def test_hostile_nesting_is_refused_not_crashed_on():
    depth = 200
    opening = b"".join(
        f'--b{i}\r\nContent-Type: multipart/mixed; boundary="b{i + 1}"\r\n\r\n'.encode()
        for i in range(depth)
    )
    raw = (b'From: a@b.pl\r\nContent-Type: multipart/mixed; boundary="b0"\r\n\r\n'
           + opening + b"--b200\r\nContent-Type: text/plain\r\n\r\nx\r\n")

    with pytest.raises(MessageParseError, match="nested"):
        parse_body(raw)


def test_unknown_part_path_is_a_parse_error():
    raw = corpus_message(f"{MIMEKIT}/messages/simple-embedded-message.eml")

    with pytest.raises(MessageParseError, match="no part 7"):
        part_bytes(raw, "7")
    with pytest.raises(MessageParseError, match="not like"):
        part_bytes(raw, "x.1")


@pytest.mark.parametrize("path", ["1", "2", "3.1", "3.2", "4.1", "4.2.1", "4.2.2.1",
                                  "4.2.2.2"])
def test_part_paths_number_parts_as_imap_does(path):
    # MimeKit's copy of the RFC 3501 6.4.5 example: each part names its path.
    raw = corpus_message(f"{MIMEKIT}/messages/rfc2060.txt")

    _type, _name, data = part_bytes(raw, path)

    assert data.strip() == f"This part specifier should be: {path}".encode()


def test_every_listed_attachment_can_be_fetched_by_its_path():
    checked = 0
    for label, raw in _corpus().items():
        if label in NOT_MESSAGES:
            continue
        for attachment in parse_body(raw).attachments:
            content_type, filename, data = part_bytes(raw, attachment.part_path)

            assert (content_type, filename, len(data)) == (
                attachment.content_type, attachment.filename, attachment.size), label
            checked += 1
    assert checked > 200
