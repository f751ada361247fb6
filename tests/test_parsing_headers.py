"""Header parsing for the hot path: every corpus message listed, tricky values right.

Expected values were read off the raw files (decoded by hand where encoded).
"""

from datetime import datetime, timezone
from functools import cache

import pytest

from mailservice.parsing.headers import parse_headers
from tests.corpus import corpus_message, corpus_messages

ARRIVED = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)  # the INTERNALDATE
MIKEL = "mikel-mail/spec/fixtures/emails"
MIMEKIT = "MimeKit/UnitTests/TestData"
FLANKER = "flanker/tests/fixtures/messages"
# No RFC 5322 message at all: an Outlook binary, and a body cut off by an mbox
# "From " line with no header above it.
NOT_MESSAGES = {
    "SpamScope-mail-parser/tests/mails/mail_outlook_1",
    f"{MIMEKIT}/mbox/unmunged.mbox.txt#1",
}


@cache
def _corpus() -> dict[str, bytes]:
    return dict(corpus_messages())


def _headers(label: str, internal_date=ARRIVED):
    return parse_headers(corpus_message(label), internal_date)


def _address(parsed, role):
    return [(a.name, a.address) for a in parsed.addresses if a.role == role]


@pytest.mark.parametrize("label", sorted(_corpus()))
def test_every_corpus_message_gets_a_date_and_an_error_only_when_no_message(label):
    parsed = parse_headers(_corpus()[label], ARRIVED)

    assert parsed.sent_at is not None
    assert (parsed.error is not None) == (label in NOT_MESSAGES), parsed.error


def test_outlook_msg_file_is_flagged_with_its_reason_and_keeps_the_arrival_date():
    parsed = _headers("SpamScope-mail-parser/tests/mails/mail_outlook_1")

    assert "Outlook .msg" in parsed.error
    assert parsed.sent_at == ARRIVED


def test_japanese_and_korean_encoded_words_are_decoded():
    japanese = _headers(f"{MIKEL}/multi_charset/japanese.eml")
    korean = _headers(f"{MIKEL}/plain_emails/raw_email.eml")  # =?EUC-KR?Q?...?=
    mimekit = _headers(f"{MIMEKIT}/messages/japanese.txt")  # ISO-2022-JP words

    assert japanese.subject == "まみむめも"
    assert _address(japanese, "to") == [("みける", "raasdnil@gmail.com")]
    assert korean.subject == "NOTE: 한국말로 하는 것"
    assert mimekit.subject == "日本語メールテスト (testing Japanese emails)"


def test_raw_utf8_headers_are_read_as_rfc_6532_says():
    parsed = _headers(f"{MIKEL}/rfc6532/utf8_headers.eml")

    assert parsed.subject == "Säying Hello"
    assert _address(parsed, "from") == [("Jöhn Doe", "jdöe@mächine.example")]


def test_raw_latin1_subject_and_quoted_encoded_name_are_decoded():
    parsed = _headers(f"{MIKEL}/error_emails/invalid_subject_characters.eml")

    assert parsed.subject.startswith("Formação FrenetikPolis: Mega Campanha")
    assert _address(parsed, "from") == [
        ("Formação Frenetikpolis", "info@formacaofrenetik.info")
    ]


def test_unknown_charset_label_and_bad_padding_in_encoded_word():
    # Subject: =?NONE?B?VEVTVA=?=  (no such charset, one "=" short)
    assert _headers(f"{MIKEL}/error_emails/bad_encoded_subject.eml").subject == "TEST"


@pytest.mark.parametrize("label, fallback", [
    (f"{MIKEL}/plain_emails/raw_email_with_bad_date.eml", "unreadable Date"),  # Pn, paX
    (f"{MIKEL}/error_emails/bad_date_header2.eml", "unreadable Date"),  # hour 59
    (f"{MIKEL}/error_emails/bad_date_header.eml", "unreadable Date"),  # <HR>
    (f"{MIKEL}/rfc2822/example04.eml", "before 1980"),  # 13 Feb 1969
    (f"{MIMEKIT}/mbox/issue1189.mbox.txt#0", "after the message arrived"),  # 2025
])
def test_bad_dates_fall_back_to_the_internal_date(label, fallback):
    parsed = _headers(label, internal_date=datetime(2024, 5, 1, tzinfo=timezone.utc))

    assert parsed.sent_at == datetime(2024, 5, 1, tzinfo=timezone.utc)
    assert fallback in parsed.sent_at_fallback


def test_obsolete_syntax_with_comments_and_spaces_is_read():
    parsed = _headers(f"{MIKEL}/rfc2822/example13.eml")

    assert parsed.sent_at == datetime(1997, 11, 21, 15, 55, 6, tzinfo=timezone.utc)
    assert parsed.message_id == "1234@local.machine.example"
    assert [a for _, a in _address(parsed, "from")] == ["jdoe@machine.example"]


def test_single_digit_hour_is_read_in_its_zone():
    parsed = _headers(f"{MIMEKIT}/mbox/simple.mbox.txt#0")  # 2:32:53 -0400

    assert parsed.sent_at == datetime(2002, 8, 23, 6, 32, 53, tzinfo=timezone.utc)
    assert parsed.sent_at_fallback is None


def test_stray_line_in_headers_does_not_lose_the_fields_after_it():
    parsed = _headers(f"{MIKEL}/plain_emails/raw_email_incorrect_header.eml")

    assert parsed.subject == "Stop adware/spyware once and for all."
    assert parsed.sent_at == datetime(2005, 2, 23, 22, 20, 17, tzinfo=timezone.utc)
    assert parsed.message_id == "4D6AA7EB.6490534@xxx.xxx"


def test_byte_order_mark_before_the_headers_is_skipped():
    parsed = _headers(f"{MIMEKIT}/messages/feedback-report.txt")

    assert parsed.subject == "FW: Earn money"
    assert parsed.is_auto_reply  # multipart/report, RFC 6522


def test_references_from_two_headers_survive_a_broken_third_id():
    parsed = _headers(f"{MIKEL}/error_emails/multiple_references_with_one_invalid.eml")

    assert parsed.references == ["foo@bar.net", "baz@bar.net"]


def test_reply_ids_and_outlook_thread_index():
    reply = _headers(f"{MIKEL}/rfc2822/example06.eml")
    outlook = _headers(f"{MIMEKIT}/tnef/rich-text.eml")

    assert reply.in_reply_to == "1234@local.machine.example"
    assert reply.references == ["1234@local.machine.example"]
    assert outlook.thread_index == "AQIGQYd8BwKQgsko1bnR3xjxAU5sOA=="


def test_a_135_kb_address_header_keeps_its_real_address():
    parsed = _headers(f"{MIMEKIT}/messages/stack-overflow.txt")

    assert parsed.error is None
    assert ("test", "test@test.com") in _address(parsed, "to")


def test_old_style_addresses_and_lists_without_commas():
    multiple = _headers(f"{MIKEL}/plain_emails/raw_email_multiple_from.eml")

    assert [a for _, a in _address(multiple, "from")][:2] == [
        "tim@powerupdev.com", "concierge@powerupdev.com"]


@pytest.mark.parametrize("label, expected", [
    ("SpamScope-mail-parser/tests/mails/mail_test_16", True),  # Precedence: junk
    (f"{FLANKER}/bounce/zed.eml", True),  # a DSN
    ("talon/tests/fixtures/standard_replies/gmail.eml", False),
])
def test_auto_replies_are_recognised(label, expected):
    assert _headers(label).is_auto_reply is expected


@pytest.mark.parametrize("label, expected", [
    (f"{FLANKER}/attached-pdf.eml", True),  # multipart/mixed
    (f"{MIKEL}/attachment_emails/attachment_only_email.eml", True),  # one gzip part
    (f"{FLANKER}/text-only.eml", False),
    ("talon/tests/fixtures/standard_replies/gmail.eml", False),  # alternative
])
def test_attachments_are_guessed_from_the_top_level_type(label, expected):
    assert _headers(label).has_attachments is expected


# Handcrafted Polish mail -----------------------------------------------------------

def _polish(headers: bytes) -> bytes:
    return headers.replace(b"\n", b"\r\n") + b"\r\n\r\nTre\xb6\xe6\r\n"


def test_polish_subject_from_a_windows_mailer_labelled_iso_8859_2():
    # Windows mailers label windows-1250 as ISO-8859-2: the en dash (0x96) and
    # "ś" (0x9C) only exist in windows-1250.
    raw = _polish(
        b"Subject: =?ISO-8859-2?Q?Faktura_VAT_nr_12/2026_=96_zaleg=B3o=9C=E6?="
    )

    assert parse_headers(raw, ARRIVED).subject == "Faktura VAT nr 12/2026 – zaległość"


def test_polish_subject_in_true_iso_8859_2():
    raw = _polish(b"Subject: =?iso-8859-2?q?Przypomnienie=3A_zaleg=B3o=B6=E6_=AFAK?=")

    assert parse_headers(raw, ARRIVED).subject == "Przypomnienie: zaległość ŻAK"


def test_idn_domain_is_shown_in_unicode_with_its_encoded_name():
    raw = _polish(
        b"From: =?UTF-8?Q?Biuro_=C5=BB=C3=B3=C5=82w?= <biuro@xn--w-uga1v8h.pl>"
    )

    assert _address(parse_headers(raw, ARRIVED), "from") == [
        ("Biuro Żółw", "biuro@żółw.pl")]


def test_raw_8bit_name_takes_the_body_charset():
    raw = _polish(
        b"To: Pawe\xb3 Ma\xb3ecki <pawel@firma.pl>\n"
        b"Content-Type: text/plain; charset=windows-1250"
    )

    assert _address(parse_headers(raw, ARRIVED), "to") == [
        ("Paweł Małecki", "pawel@firma.pl")]


@pytest.mark.parametrize("subject, headers", [
    ("Automatyczna odpowiedź: Faktura", b""),
    ("Nieobecność w biurze", b""),
    ("Out of Office: invoice", b""),
    ("Faktura", b"\nAuto-Submitted: auto-replied"),
    ("Faktura", b"\nX-Autoreply: yes"),
    ("Faktura", b"\nPrecedence: bulk"),
])
def test_polish_and_english_auto_replies(subject, headers):
    raw = _polish(b"Subject: " + subject.encode("utf-8") + headers)  # RFC 6532

    assert parse_headers(raw, ARRIVED).is_auto_reply


def test_a_human_reply_is_no_auto_reply():
    raw = _polish(b"Subject: Re: Faktura\nAuto-Submitted: no")

    assert not parse_headers(raw, ARRIVED).is_auto_reply


@pytest.mark.parametrize("header, expected", [
    (b"Message-ID: abc.123@firma.pl", "abc.123@firma.pl"),  # no brackets
    (b"Message-ID: <abc.123@firma.pl> (Outlook)", "abc.123@firma.pl"),
    (b"Message-ID:\n  <abc.\n 123@firma.pl>", "abc.123@firma.pl"),  # folded inside
    (b"Message-ID: <>", None),
])
def test_message_ids_are_normalised(header, expected):
    assert parse_headers(_polish(header), ARRIVED).message_id == expected


def test_in_reply_to_takes_the_id_not_an_address_in_a_comment():
    raw = _polish(b"In-Reply-To: <a1@firma.pl> (from Jan <jan@firma.pl>)")

    assert parse_headers(raw, ARRIVED).in_reply_to == "a1@firma.pl"


def test_date_in_the_far_future_falls_back():
    raw = _polish(b"Date: Fri, 1 Jan 2100 10:00:00 +0100")

    parsed = parse_headers(raw, ARRIVED)

    assert parsed.sent_at == ARRIVED
    assert "after the message arrived" in parsed.sent_at_fallback


def test_without_date_or_internal_date_the_received_stamp_is_used():
    raw = _polish(b"Received: from a by b; Mon, 2 Mar 2026 10:15:00 +0100\nSubject: x")

    parsed = parse_headers(raw, None)

    assert parsed.sent_at == datetime(2026, 3, 2, 9, 15, tzinfo=timezone.utc)


@pytest.mark.parametrize("raw, reason", [
    (b"", "empty"),
    (b"\x00\x01\x02 binary junk\n\nmore", "no header field"),
])
def test_non_messages_are_flagged_not_raised(raw, reason):
    parsed = parse_headers(raw, ARRIVED)

    assert reason in parsed.error
    assert parsed.sent_at == ARRIVED
