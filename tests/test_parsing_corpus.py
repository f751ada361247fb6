"""The corpus loader: every message found once, mbox files split as mbox readers do."""

import mailbox

from tests.corpus import (
    DOCUMENTED_MESSAGE_COUNT,
    MESSAGE_COUNT,
    corpus_files,
    corpus_message,
    corpus_messages,
    split_mbox,
)

UNMUNGED = "MimeKit/UnitTests/TestData/mbox/unmunged.mbox.txt"


def test_corpus_yields_every_message_once():
    labels = [label for label, _raw in corpus_messages()]

    assert len(labels) == len(set(labels)) == MESSAGE_COUNT
    # The README's 266 misses the first message of the unmunged mbox (see corpus.py).
    assert MESSAGE_COUNT == DOCUMENTED_MESSAGE_COUNT + 1


def test_corpus_leaves_out_licences_and_reply_fixtures():
    names = {path.name for path in corpus_files()}

    left_out = {"LICENSE", "NOTICE", "README.md", "gmail.html", "iphone_reply_text"}
    assert not names & left_out
    assert {"mail_outlook_1", "rich-text.eml", "japanese.txt", "simple.msg"} <= names


def test_mbox_split_matches_the_stdlib_where_no_byte_order_mark_hides_a_message():
    for path in corpus_files():
        if not path.name.endswith(".mbox.txt") or path.name == "unmunged.mbox.txt":
            continue
        box = mailbox.mbox(path, create=False)
        expected = [box.get_bytes(key) for key in box.keys()]

        assert split_mbox(path.read_bytes()) == expected, path.name


def test_unmunged_mbox_keeps_the_message_behind_the_byte_order_mark():
    first = corpus_message(f"{UNMUNGED}#0")

    assert first.startswith(b"From: Jeffrey Stedfast <jeff@xamarin.com>\n")
    assert b"Subject: This is a test message with an unmunged From line" in first
    assert corpus_message(f"{UNMUNGED}#3").startswith(b"Year: 1963\n")
