"""The whole shared corpus, synced from Dovecot the real way, opens in the inbox:
every thread, body, attachment and raw source answers, sanitised and searchable."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from mailservice.db.session import session_scope
from mailservice.inbox.search_index import index_pending
from mailservice.messages.extract import extract_pending
from mailservice.messages.models import QUARANTINED, Attachment, Message
from mailservice.sync.engine import sync_account
from mailservice.users.service import add_user
from mailservice.web.app import create_app
from tests.corpus_mailbox import load_corpus
from tests.servers.dovecot import dovecot  # noqa: F401  (fixture)
from tests.sync_support import add_imap_account, sync_settings
from tests.web.conftest import PASSWORD, login

pytestmark = pytest.mark.imap
# What must never reach a body: script, event-handler attributes, script URLs.
ACTIVE = re.compile(r"<script|<[^>]*\son\w+\s*=|(href|src)=\"?\s*javascript:", re.I)


def _synced_corpus(dovecot, settings):  # noqa: F811
    user = dovecot.add_user()
    load_corpus(dovecot, user)
    current = sync_settings(settings, fetch_batch_messages=100)
    add_imap_account(current, dovecot, user)
    assert sync_account(current, "biuro").ok
    extract_pending(current, workers=1)
    with session_scope(current.effective_database_url) as session:
        index_pending(session, limit=10_000)
        add_user(session, "admin@firma.test", PASSWORD, role="admin")
    return current


def test_every_corpus_message_opens_safely_in_the_inbox(dovecot, settings):  # noqa: F811
    current = _synced_corpus(dovecot, settings)
    client = login(create_app(current), "admin@firma.test")
    with session_scope(current.effective_database_url) as session:
        messages = session.execute(
            select(Message.id, Message.thread_id, Message.parse_status)
        ).all()
        attachments = session.scalars(select(Attachment.id)).all()

    thread_ids = {m.thread_id for m in messages if m.thread_id}
    for thread_id in thread_ids:
        page = client.get(f"/threads/{thread_id}")
        assert page.status_code == 200, thread_id
    for message_id, _thread, status in messages:
        body = client.get(f"/messages/{message_id}/body")
        assert body.status_code == 200, message_id
        assert "sandbox" in body.headers["content-security-policy"]
        assert not ACTIVE.search(body.text), message_id
        assert client.get(f"/messages/{message_id}/raw").status_code == 200
    for attachment_id in attachments:
        answer = client.get(f"/attachments/{attachment_id}")
        assert answer.status_code == 200, attachment_id
        assert answer.headers["x-content-type-options"] == "nosniff"
    assert len(messages) >= 200 and len(attachments) > 20
    assert sum(1 for m in messages if m.parse_status == QUARANTINED) < 10


def test_the_corpus_inbox_lists_every_thread_once_across_pages(dovecot, settings):  # noqa: F811
    current = _synced_corpus(dovecot, settings)
    client = login(create_app(current), "admin@firma.test")
    with session_scope(current.effective_database_url) as session:
        expected = set(
            session.scalars(
                select(Message.thread_id).where(Message.thread_id.is_not(None))
            )
        )
    home = client.get("/", follow_redirects=True)
    listed, page = [], home.text
    while True:
        listed += re.findall(r'href="/threads/(\d+)\?folder=', page)
        older = re.search(r'rel="next" href="([^"]+)"', page)
        if older is None:
            break
        page = client.get(older.group(1).replace("&amp;", "&")).text
    assert len(listed) == len(set(listed))
    assert {int(t) for t in listed} == expected
