"""The sync's pure parts: UID sets, FETCH readers, folder roles, the identity key."""

from __future__ import annotations

from datetime import timedelta

from imapclient.response_parser import parse_fetch_response

from mailservice.sync.folders import RemoteFolder, assign_roles, decode_folder_name
from mailservice.sync.identity import (
    BodyDigest,
    body_digest,
    date_header,
    identity_key,
)
from mailservice.sync.fetch import read_flags
from mailservice.sync.wire import (
    parse_uid_set,
    read_bodies,
    read_items,
    read_meta,
    uid_set,
)


def test_uid_set_compresses_runs_and_parses_back():
    uids = [9, 1, 2, 3, 5, 12, 13, 14, 4]

    text = uid_set(uids)

    assert text == "1:5,9,12:14"
    assert parse_uid_set(text) == set(uids)
    assert parse_uid_set("7:3") == {3, 4, 5, 6, 7}
    assert uid_set([]) == ""


def test_meta_reader_agrees_with_imapclient_and_skips_unsolicited_updates():
    line = (b'4 (UID 17 RFC822.SIZE 2313 INTERNALDATE "05-Feb-2024 10:00:01 +0100" '
            b'FLAGS (\\Seen $Faktura) MODSEQ (44))')
    unsolicited = b"2 (FLAGS (\\Deleted))"

    meta = read_meta([unsolicited, line])

    reference = parse_fetch_response([line], normalise_times=False)[17]
    assert set(meta) == {17}
    for item in (b"RFC822.SIZE", b"INTERNALDATE", b"FLAGS", b"MODSEQ"):
        assert meta[17][item] == reference[item]
    assert meta[17][b"INTERNALDATE"].utcoffset() == timedelta(hours=1)


def test_body_reader_takes_literals_and_falls_back_when_uid_follows_the_body():
    raw = b"Subject: a\r\n\r\nbody\r\n"
    usual = [(b"1 (UID 7 BODY[] {%d}" % len(raw), raw), b")"]
    uid_last = [(b"1 (BODY[] {%d}" % len(raw), raw), b" UID 8)"]

    assert read_bodies(usual) == {7: raw}
    assert read_bodies(uid_last) == {8: raw}


def _folder(name: str, flags: str | None = None, selectable: bool = True):
    return RemoteFolder(wire_name=name, name=name, delimiter="/", role=flags,
                        selectable=selectable)


def test_special_use_flags_win_over_names_and_polish_names_fill_the_rest():
    folders = [_folder("INBOX"), _folder("Sent"), _folder("Wysłane elementy", "sent"),
               _folder("Kosz"), _folder("Archiwum/Szkice"), _folder("Spam"),
               _folder("Junk"), _folder("Archiwum", selectable=False)]

    assign_roles(folders)

    assert {f.name: f.role for f in folders} == {
        "INBOX": "inbox", "Sent": None, "Wysłane elementy": "sent", "Kosz": "trash",
        "Archiwum/Szkice": "drafts", "Spam": "junk", "Junk": None, "Archiwum": None,
    }


def test_folder_names_decode_from_modified_utf7_and_bad_names_stay_as_sent():
    assert decode_folder_name("Wys&AUI-ane") == "Wysłane"
    assert decode_folder_name("Elementy usuni&ARk-te") == "Elementy usunięte"
    assert decode_folder_name("Zepsute&ZZZ-") == "Zepsute&ZZZ-"


def test_date_header_is_read_unfolded_from_the_header_block_only():
    raw = (b"Subject: x\r\nDate: Mon, 5 Feb 2024\r\n 10:00:00 +0100\r\n\r\n"
           b"Date: not this one\r\n")

    assert date_header(raw) == "Mon, 5 Feb 2024 10:00:00 +0100"
    assert date_header(b"Subject: x\n\nDate: body\n") == ""


def test_identity_key_ignores_brackets_and_case_of_id_and_sender():
    date = "Mon, 5 Feb 2024 10:00:00 +0100"

    one = identity_key("<Order-1@Klient.PL>", date, "Jan@Klient.pl", "b")
    same = identity_key("order-1@klient.pl", date, "jan@klient.pl", "b")
    other_day = identity_key(
        "order-1@klient.pl", "Tue, 6 Feb 2024", "jan@klient.pl", "b"
    )

    assert one == same != other_day and len(one) == 64


def test_body_digest_ignores_trace_headers_and_line_ends_but_not_content():
    delivered = (b"Received: from a\r\nMessage-ID: <1@x>\r\n\r\nZam\xc3\xb3wienie"
                 b"\r\nOSB 12 mm\r\n")
    stored_with_lf = b"Message-ID: <1@x>\n\nZam\xc3\xb3wienie\nOSB 12 mm"
    reused_id = b"Message-ID: <1@x>\r\n\r\nZam\xc3\xb3wienie\r\nOSB 18 mm\r\n"

    assert body_digest(delivered) == body_digest(stored_with_lf)
    assert body_digest(delivered) != body_digest(reused_id)


def test_body_digest_fed_in_pieces_equals_whole():
    raw = b"Subject: x\r\n\r\n" + b"line of a large attachment \r\n" * 5000
    digest = BodyDigest()
    for start in range(0, len(raw), 4093):  # cuts inside CRLF and the blank line
        digest.update(raw[start:start + 4093])

    assert digest.hexdigest() == body_digest(raw)


def test_unsolicited_updates_without_a_uid_are_never_taken_for_a_message():
    unsolicited = b"3 (FLAGS (\\Deleted))"
    answer = b"1 (UID 3 FLAGS (\\Seen) MODSEQ (12))"
    with_literal = [unsolicited, (b"1 (UID 3 FLAGS (\\Seen) BODY[HEADER] {2}", b"\r\n"),
                    b")"]

    assert read_flags([unsolicited, answer]) == {3: ("\\Seen", 12)}
    assert read_items(with_literal)[3][b"FLAGS"] == (b"\\Seen",)
    assert set(read_items(with_literal)) == {3}
