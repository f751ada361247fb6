"""`mailservice send` sends one message through the same queue as the web inbox."""

from __future__ import annotations

import email
from email import policy

from click.testing import CliRunner

from mailservice.cli import context
from mailservice.cli import send as send_cli
from mailservice.cli.main import cli
from tests.outbound_support import add_sink_account, fast_settings
from tests.servers.smtp import smtp_sink  # noqa: F401  (fixture)


def _invoke(settings, monkeypatch, *args):
    monkeypatch.setattr(context, "settings", lambda: settings)
    monkeypatch.setattr(send_cli, "settings", lambda: settings)
    return CliRunner().invoke(cli, list(args))


def test_send_command_delivers_body_and_attachments(
    session, settings, smtp_sink, tmp_path, monkeypatch
):
    settings = fast_settings(settings)
    add_sink_account(session, settings, smtp_sink.port, name="biuro")
    body = tmp_path / "body.txt"
    body.write_text("Dzień dobry,\n\nw załączeniu cennik.", encoding="utf-8")
    attachment = tmp_path / "cennik 2026 – żółty.csv"
    attachment.write_text("a;b\n1;2\n", encoding="utf-8")

    result = _invoke(
        settings,
        monkeypatch,
        "send",
        "--account",
        "biuro",
        "--to",
        "anna@klient.test",
        "--subject",
        "Cennik",
        "--body-file",
        str(body),
        "--attach",
        str(attachment),
    )

    assert result.exit_code == 0, result.output
    assert "sent message 1" in result.output
    received = email.message_from_bytes(
        smtp_sink.received[0].data, policy=policy.default
    )
    assert received["To"] == "anna@klient.test"
    assert "w załączeniu cennik" in received.get_body(("plain",)).get_content()
    assert [a.get_filename() for a in received.iter_attachments()] == [attachment.name]


def test_send_command_reports_a_permanent_failure_with_reason(
    session, settings, smtp_sink, tmp_path, monkeypatch
):
    settings = fast_settings(settings)
    add_sink_account(session, settings, smtp_sink.port, name="biuro")
    smtp_sink.fail_next("550")
    body = tmp_path / "body.html"
    body.write_text("<p>Oferta</p>", encoding="utf-8")

    result = _invoke(
        settings,
        monkeypatch,
        "send",
        "--account",
        "biuro",
        "--to",
        "anna@klient.test",
        "--subject",
        "Oferta",
        "--body-file",
        str(body),
    )

    assert result.exit_code == 1
    assert "failed: the server refused the message: 550 5.7.1" in result.output


def test_send_command_refuses_an_injected_recipient(
    session, settings, smtp_sink, tmp_path, monkeypatch
):
    settings = fast_settings(settings)
    add_sink_account(session, settings, smtp_sink.port, name="biuro")
    body = tmp_path / "body.txt"
    body.write_text("x", encoding="utf-8")

    result = _invoke(
        settings,
        monkeypatch,
        "send",
        "--account",
        "biuro",
        "--to",
        "anna@klient.test\nBcc: x@evil.test",
        "--subject",
        "x",
        "--body-file",
        str(body),
    )

    assert result.exit_code == 1 and "line break" in result.output
    assert smtp_sink.received == []
