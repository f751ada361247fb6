"""`mailservice mailing ...`: create from a spec file, preview, test, send with a
progress bar, report as CSV, and a new mailing from the failures."""

from __future__ import annotations

import csv
import io

import pytest
from click.testing import CliRunner

from mailservice.cli import context
from mailservice.cli import mailings as mailings_cli
from mailservice.cli.main import cli
from tests.mailings_support import DOCUMENT, make_contacts, parsed, pdf_text
from tests.outbound_support import add_sink_account, fast_settings
from tests.servers.smtp import smtp_sink  # noqa: F401  (fixture)


@pytest.fixture
def invoke(settings, monkeypatch):
    """Run a command with the test settings."""
    settings = fast_settings(settings, mailing_chunk_size=2)
    monkeypatch.setattr(context, "settings", lambda: settings)
    monkeypatch.setattr(mailings_cli, "settings", lambda: settings)

    def run(*args):
        return CliRunner().invoke(cli, ["mailing"] + [str(arg) for arg in args])

    run.settings = settings
    return run


def _spec(tmp_path, **extra) -> object:
    (tmp_path / "body.html").write_text(
        "<p>Dzień dobry, do zapłaty {{ document.amount_due }} zł.</p>", "utf-8"
    )
    (tmp_path / "document.html").write_text(DOCUMENT, "utf-8")
    (tmp_path / "lista.csv").write_text(
        "email;amount_due;currency;file\n"
        "biuro0@klient0.test;10,00;PLN;umowa-0.pdf\n"
        "biuro1@klient1.test;20,00;PLN;umowa-1.pdf\n"
        "biuro2@klient2.test;30,00;PLN;\n",
        "utf-8",
    )
    files = tmp_path / "pliki"
    files.mkdir()
    (files / "umowa-0.pdf").write_bytes(b"%PDF-1.4 umowa zero")
    (files / "umowa-1.pdf").write_bytes(b"%PDF-1.4 umowa jeden")
    lines = [
        'name = "Zestawienia grudzień"',
        'account = "office"',
        'subject = "Zestawienie dla {{ contact.name }}"',
        'body_file = "body.html"',
        'document_file = "document.html"',
        'document_filename = "zestawienie-{{ contact.nip }}.pdf"',
        'recipients_csv = "lista.csv"',
        'files_dir = "pliki"',
        'files_match = "column"',
    ] + [f"{key} = {value}" for key, value in extra.items()]
    path = tmp_path / "mailing.toml"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def test_create_preview_test_send_and_report_from_the_command_line(
    session, invoke, smtp_sink, tmp_path
):
    add_sink_account(session, invoke.settings, smtp_sink.port)
    make_contacts(session, 3)

    created = invoke("create", "--spec", _spec(tmp_path))
    assert created.exit_code == 0, created.output
    assert "mailing 1 created (draft)" in created.output
    assert "3 recipients; 0 cannot get it, 0 warnings" in created.output

    shown = invoke("preview", "1", "--recipient", "2", "--save", tmp_path / "podglad")
    assert shown.exit_code == 0, shown.output
    assert "Subject: Zestawienie dla Firma 1" in shown.output
    assert "do zapłaty 20,00 zł." in shown.output
    assert "[attachment] umowa-1.pdf" in shown.output
    pdf = (tmp_path / "podglad" / "zestawienie-1000000001.pdf").read_bytes()
    assert "Kontrahent: Firma 1" in pdf_text(pdf)

    tested = invoke("test", "1", "--to", "ja@firma.test", "--recipient", "3")
    assert tested.exit_code == 0, tested.output
    assert smtp_sink.received[-1].rcpt_tos == ["ja@firma.test"]

    sent = invoke("send", "1")
    assert sent.exit_code == 0, sent.output
    assert "mailing 1 finished" in sent.output and "sent 3" in sent.output
    got = {m.rcpt_tos[0]: parsed(m) for m in smtp_sink.received[1:]}
    assert sorted(got) == [f"biuro{n}@klient{n}.test" for n in range(3)]
    names = [a.get_filename() for a in got["biuro0@klient0.test"].iter_attachments()]
    assert names == ["zestawienie-1000000000.pdf", "umowa-0.pdf"]

    report = invoke("report", "1", "--csv", tmp_path / "raport.csv")
    assert report.exit_code == 0, report.output
    assert "sent 3" in report.output
    rows = list(csv.DictReader(io.StringIO((tmp_path / "raport.csv").read_text())))
    assert [row["outcome"] for row in rows] == ["sent"] * 3


def test_a_missing_file_is_listed_and_failures_become_a_new_mailing(
    session, invoke, smtp_sink, tmp_path
):
    add_sink_account(session, invoke.settings, smtp_sink.port)
    make_contacts(session, 3)
    smtp_sink.refuse("biuro1@klient1.test", "550 5.1.1 mailbox unavailable")

    created = invoke("create", "--spec", _spec(tmp_path, files_required="true"))
    assert "SKIP #3 Firma 2 <biuro2@klient2.test>: no file matches" in created.output
    sent = invoke("send", "1")
    assert "sent 1" in sent.output and "failed 1" in sent.output
    assert "skipped 1" in sent.output

    report = invoke("report", "1")
    assert "#2 biuro1@klient1.test: failed" in report.output
    assert "550 5.1.1 mailbox unavailable" in report.output
    again = invoke("from-failures", "1")
    assert again.exit_code == 0, again.output
    assert "mailing 2 created (draft) from the failures of 1" in again.output
    assert "2 recipients" in again.output


def test_pausing_a_mailing_that_is_not_running_says_why(session, invoke, tmp_path):
    add_sink_account(session, invoke.settings, 2525)
    make_contacts(session, 1)
    invoke("create", "--spec", _spec(tmp_path))

    paused = invoke("pause", "1")

    assert paused.exit_code == 1
    assert "mailing 1 is draft, not running" in paused.output


def test_open_invoices_filter_says_what_it_waits_for(session, invoke, tmp_path):
    add_sink_account(session, invoke.settings, 2525)
    created = invoke(
        "create",
        "--name",
        "Dłużnicy",
        "--account",
        "office",
        "--subject",
        "Przypomnienie",
        "--body-file",
        _spec(tmp_path).parent / "body.html",
        "--open-invoices",
    )

    assert created.exit_code == 1
    assert "receivables" in created.output
