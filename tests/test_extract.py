"""Extraction behind the hot path: bodies, attachments, quarantine, on both DBs."""

import hashlib

import click
import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from mailservice.cli import context
from mailservice.cli.extract import register
from mailservice.messages.extract import extract_one, extract_pending
from mailservice.messages.models import (
    HEADERS_ONLY,
    PARSED,
    QUARANTINED,
    Attachment,
    Message,
)
from mailservice.store.raw import RawStore
from tests.corpus import corpus_message, corpus_messages

MIMEKIT = "MimeKit/UnitTests/TestData"
OUTLOOK_MSG = "SpamScope-mail-parser/tests/mails/mail_outlook_1"
POLISH = (
    "From: biuro@firma.pl\r\nSubject: Faktura\r\nMIME-Version: 1.0\r\n"
    'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
    "--b\r\nContent-Type: text/plain; charset=windows-1250\r\n\r\n"
    "Dzień dobry, w załączeniu faktura.\r\n"
    "--b\r\nContent-Type: application/pdf; name=\"Faktura 12_2026.pdf\"\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b--\r\n"
).encode("cp1250")


@pytest.fixture
def store(settings):
    return RawStore(settings.effective_raw_store_dir, fsync=False)


def _synced(session, store, raw: bytes) -> int:
    """A message as the hot path leaves it: raw stored, listed from its headers."""
    sha = store.put(raw)
    message = Message(identity_key=sha, raw_sha256=sha, size=len(raw),
                      parse_status=HEADERS_ONLY)
    session.add(message)
    session.commit()
    return message.id


def _attachments(session, message_id):
    return session.scalars(
        select(Attachment).where(Attachment.message_id == message_id)
        .order_by(Attachment.part_path)
    ).all()


def _state(session):
    session.expire_all()
    messages = session.scalars(select(Message).order_by(Message.id)).all()
    rows = session.scalars(select(Attachment).order_by(Attachment.id)).all()
    return ([(m.id, m.parse_status, m.parse_error, m.body_text, m.snippet,
              m.has_attachments) for m in messages],
            [(a.id, a.message_id, a.part_path, a.filename) for a in rows])


def test_pending_messages_get_bodies_and_attachments(session, settings, store):
    tnef = _synced(session, store, corpus_message(f"{MIMEKIT}/tnef/rich-text.eml"))
    related = _synced(session, store, corpus_message(f"{MIMEKIT}/dkim/related.msg"))
    polish = _synced(session, store, POLISH)

    counts = extract_pending(settings, workers=1)

    assert (counts.parsed, counts.quarantined, counts.missing_raw) == (3, 0, 0)
    session.expire_all()
    message = session.get(Message, polish)
    assert message.parse_status == PARSED
    assert message.body_text == "Dzień dobry, w załączeniu faktura."
    assert message.snippet == "Dzień dobry, w załączeniu faktura."
    assert message.has_attachments
    [pdf] = _attachments(session, polish)
    assert (pdf.part_path, pdf.filename, pdf.content_type, pdf.size) == (
        "2", "Faktura 12_2026.pdf", "application/pdf", 9)
    assert session.get(Message, tnef).has_winmail_dat
    assert not session.get(Message, related).has_attachments
    [image] = _attachments(session, related)
    assert image.is_inline and image.content_id == "ii_15071bf7ff349334"


def test_garbage_is_quarantined_with_its_reason_and_the_raw_kept(session, settings,
                                                                 store):
    broken = _synced(session, store, corpus_message(OUTLOOK_MSG))
    fine = _synced(session, store, POLISH)

    counts = extract_pending(settings, workers=1)

    assert (counts.parsed, counts.quarantined) == (1, 1)
    session.expire_all()
    message = session.get(Message, broken)
    assert message.parse_status == QUARANTINED
    assert "Outlook .msg" in message.parse_error
    assert store.read(message.raw_sha256) == corpus_message(OUTLOOK_MSG)
    assert session.get(Message, fine).parse_status == PARSED


def test_running_again_changes_nothing(session, settings, store):
    for raw in (POLISH, corpus_message(OUTLOOK_MSG),
                corpus_message(f"{MIMEKIT}/messages/simple-embedded-message.eml")):
        _synced(session, store, raw)
    extract_pending(settings, workers=1)
    before = _state(session)

    counts = extract_pending(settings, workers=1)

    assert counts.done == 0
    assert _state(session) == before


def test_missing_raw_is_left_for_a_later_run(session, settings, store):
    message = Message(identity_key="k", raw_sha256="0" * 64, size=1,
                      parse_status=HEADERS_ONLY)
    session.add(message)
    session.commit()

    counts = extract_pending(settings, workers=1)

    assert counts.missing_raw == 1
    session.expire_all()
    assert session.get(Message, message.id).parse_status == HEADERS_ONLY


def test_worker_processes_give_what_one_process_gives(session, settings, store):
    # Several batches for two spawned workers, a quarantine among them.
    labels = [label for label, _raw in corpus_messages()][::9] + [OUTLOOK_MSG]
    ids = [_synced(session, store, corpus_message(label)) for label in labels]
    expected = {}
    for message_id in ids:
        expected[message_id] = extract_one(session, settings, message_id)
    session.rollback()  # extract_one leaves the commit to its caller

    counts = extract_pending(settings, workers=2)

    session.expire_all()
    assert counts.done == len(ids)
    assert {i: session.get(Message, i).parse_status for i in ids} == expected
    assert QUARANTINED in expected.values()


def test_extract_command_reports_counts(session, settings, store, monkeypatch):
    monkeypatch.setattr(context, "settings", lambda: settings)
    _synced(session, store, POLISH)
    _synced(session, store, corpus_message(OUTLOOK_MSG))
    group = click.Group()
    register(group)

    result = CliRunner().invoke(group, ["extract", "--workers", "1"],
                                catch_exceptions=False)

    assert result.exit_code == 0
    assert "parsed 1, quarantined 1, raw missing 0" in result.output


def test_every_corpus_message_is_parsed_or_quarantined(session, settings, store):
    ids = {}
    for label, raw in corpus_messages():
        if not store.exists(hashlib.sha256(raw).hexdigest()):  # a few are twins
            ids[label] = _synced(session, store, raw)

    counts = extract_pending(settings, workers=1)

    session.expire_all()
    statuses = {label: session.get(Message, i).parse_status for label, i in ids.items()}
    assert counts.done == len(ids)
    assert {label for label, s in statuses.items() if s == QUARANTINED} == {
        OUTLOOK_MSG, f"{MIMEKIT}/mbox/unmunged.mbox.txt#1"}


def test_extracted_messages_are_in_the_search_index(session, settings, store):
    polish = _synced(session, store, POLISH)

    extract_pending(settings, workers=1)

    session.expire_all()
    indexed = session.execute(text("SELECT count(*) FROM message_search")).scalar()
    assert session.get(Message, polish).parse_status == PARSED and indexed == 1
