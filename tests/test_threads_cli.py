"""Threads across folders and accounts, and the `threads` commands that show them."""

import pytest
from click.testing import CliRunner

from mailservice.cli import context
from mailservice.cli.main import cli
from mailservice.messages.models import MessageLocation
from tests.threads_builder import CUSTOMER, OWN, Mail, Mailbox, day

SALES = "handel@firma.pl"


@pytest.fixture
def box(session, settings, monkeypatch):
    monkeypatch.setattr(context, "settings", lambda: settings)
    box = Mailbox(session, settings)
    box.account("handel", SALES)
    return box


def _conversation(box) -> None:
    """A customer's question to sales, answered from the office account."""
    budmat = box.contact("Budmat Sp. z o.o.")
    box.arrive(Mail("question", subject="Dostawa cementu", message_id="q@budmat.pl",
                    to=[SALES], cc=[OWN], contacts=[budmat], folder=("handel", "INBOX"),
                    flags="\\Seen"))
    box.arrive(Mail("answer", subject="Re: Dostawa cementu", message_id="a@firma.pl",
                    in_reply_to="q@budmat.pl", sender=OWN, to=[CUSTOMER],
                    contacts=[budmat], sent_at=day(1), folder=("biuro", "Sent"),
                    flags="\\Seen \\Answered"))


def _run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_thread_spans_accounts_and_folders(box):
    _conversation(box)

    assert box.thread_of("question") == box.thread_of("answer")


def test_threads_show_lists_messages_in_date_order_with_folders_and_contacts(box):
    # The answer arrives first, as when Sent is synced before the Inbox.
    budmat = box.contact("Budmat Sp. z o.o.")
    answer = Mail("answer", subject="Re: Dostawa cementu", message_id="a@firma.pl",
                  in_reply_to="q@budmat.pl", sender=OWN, to=[CUSTOMER],
                  contacts=[budmat], sent_at=day(1), folder=("biuro", "Sent"),
                  flags="\\Seen \\Answered")
    question = Mail("question", subject="Dostawa cementu", message_id="q@budmat.pl",
                    to=[SALES], cc=[OWN], contacts=[budmat], folder=("handel", "INBOX"))
    box.arrive(answer)
    box.arrive(question)

    result = _run("threads", "show", str(box.thread_of("answer")))

    assert result.exit_code == 0, result.output
    out = result.output
    assert "thread " in out and ": Dostawa cementu" in out
    assert "2 messages, 2026-11-02 09:15 UTC to 2026-11-03 09:15 UTC" in out
    assert f"contacts: Budmat Sp. z o.o. (#{budmat})" in out
    assert out.index("handel/INBOX") < out.index("biuro/Sent  [\\Seen \\Answered]")
    assert f"from:    {CUSTOMER}" in out and f"to:      {SALES}" in out
    assert f"cc:      {OWN}" in out
    assert "subject: Re: Dostawa cementu" in out


def test_threads_show_lists_every_folder_of_one_message(box, session):
    _conversation(box)
    archive = box._folder("handel", "Archiwum")
    session.add(MessageLocation(message_id=box.ids["answer"], folder_id=archive,
                                uidvalidity=1, uid=99, raw_sha256="x",
                                deleted_at=day(2)))
    session.commit()

    out = _run("threads", "show", str(box.thread_of("answer"))).output

    assert "handel/Archiwum  [no flags]  (removed from the server)" in out
    assert "biuro/Sent" in out


def test_threads_show_unknown_id_says_so(box):
    result = _run("threads", "show", "999")

    assert result.exit_code == 1
    assert "thread 999 does not exist" in result.output


def test_threads_list_shows_newest_first_and_obeys_limit(box):
    _conversation(box)
    box.arrive(Mail("later", subject="Nowe zamówienie", sent_at=day(10)))

    lines = _run("threads", "list", "--limit", "1").output.splitlines()
    both = _run("threads", "list").output.splitlines()

    assert lines == [both[0]]
    assert both[0].endswith("\t1\tNowe zamówienie")
    assert both[1].endswith("\t2\tDostawa cementu")
