"""`mailservice send ...` and `mailservice outbox ...`: outbound mail from the shell."""

from __future__ import annotations

import html
import mimetypes
import time
from pathlib import Path

import click
from sqlalchemy import func, select

from mailservice.accounts.service import get_account
from mailservice.cli.context import db_session, settings, user_errors
from mailservice.outbound.models import FAILED, SENT, OutgoingMessage

FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _body_html(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".html", ".htm"):
        return text
    paragraphs = text.strip().split("\n\n")
    return "\n".join(
        "<p>" + html.escape(p).replace("\n", "<br>\n") + "</p>" for p in paragraphs
    )


def _attachment(path: Path) -> tuple[str, str, bytes]:
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return path.name, content_type, path.read_bytes()


@click.command("send")
@click.option("--account", "account_name", required=True, help="Account to send from.")
@click.option(
    "--to", "to", multiple=True, required=True, help="Recipient (repeatable)."
)
@click.option("--cc", multiple=True, help="Copy recipient (repeatable).")
@click.option("--subject", required=True)
@click.option(
    "--body-file",
    type=FILE,
    required=True,
    help="The body: .html as HTML, anything else as plain text.",
)
@click.option(
    "--attach", type=FILE, multiple=True, help="A file to attach (repeatable)."
)
@click.option(
    "--automatic",
    is_flag=True,
    help="Mark as automatic mail (Auto-Submitted: auto-generated).",
)
@click.option("--signature/--no-signature", default=True, show_default=True)
@click.option(
    "--wait/--no-wait",
    default=True,
    show_default=True,
    help="Wait until the message is sent or failed.",
)
@click.option("--timeout", type=float, default=300.0, show_default=True)
def send_command(
    account_name,
    to,
    cc,
    subject,
    body_file,
    attach,
    automatic,
    signature,
    wait,
    timeout,
) -> None:
    """Send one message through the outbox, the same path as the web inbox."""
    from mailservice.outbound.queueing import send_message

    current = settings()
    with user_errors():
        with db_session() as session:
            account = get_account(session, account_name)
            row = send_message(
                session,
                current,
                account_id=account.id,
                to=list(to),
                cc=list(cc),
                subject=subject,
                body_html=_body_html(body_file),
                attachments=[_attachment(path) for path in attach],
                automatic=automatic,
                include_signature=signature,
            )
            outgoing_id, message_id = row.id, row.message_id_header
        click.echo(f"queued message {outgoing_id} <{message_id}>")
        if wait or not current.broker_url:
            _wait_and_report(current, outgoing_id, timeout)


def _wait_and_report(current, outgoing_id: int, timeout: float) -> None:
    workers = None
    if not current.broker_url:
        # Embedded default: no worker runs elsewhere, so this process sends it.
        from mailservice.jobs.embedded import EmbeddedWorkers

        workers = EmbeddedWorkers(current, sweep_every=5.0).start()
    try:
        state, reason = _wait(outgoing_id, timeout)
    finally:
        if workers is not None:
            workers.stop()
    if state == SENT:
        click.echo(f"sent message {outgoing_id}")
    elif state == FAILED:
        raise click.ClickException(f"message {outgoing_id} failed: {reason}")
    else:
        click.echo(
            f"message {outgoing_id} is {state}: {reason or 'waiting'}; "
            "the workers keep trying"
        )


def _wait(outgoing_id: int, timeout: float) -> tuple[str, str | None]:
    deadline = time.monotonic() + timeout
    while True:
        with db_session() as session:
            row = session.get(OutgoingMessage, outgoing_id)
            state, reason = row.state, row.last_error
        if state in (SENT, FAILED) or time.monotonic() > deadline:
            return state, reason
        time.sleep(0.2)


@click.group("outbox")
def outbox_group() -> None:
    """Watch and maintain the outgoing mail queue."""


@outbox_group.command("status")
def status_command() -> None:
    """Count outgoing messages by state."""
    with user_errors(), db_session() as session:
        rows = session.execute(
            select(OutgoingMessage.state, func.count()).group_by(OutgoingMessage.state)
        ).all()
    for state, count in sorted(rows):
        click.echo(f"{state}\t{count}")


@outbox_group.command("sweep")
@click.option(
    "--every",
    type=float,
    default=0.0,
    help="Repeat every this many seconds (the scheduler's sweeper).",
)
def sweep_command(every: float) -> None:
    """Release stranded messages, re-dispatch lost jobs, finish Sent copies."""
    from mailservice.jobs.broker import setup_broker
    from mailservice.outbound.sweeper import sweep

    current = settings()
    setup_broker(current)
    while True:
        with user_errors():
            report = sweep(current, waited_seconds=30.0)
        click.echo(
            f"released {len(report.released)}, dispatched {report.dispatched}, "
            f"recorded {report.recorded}, appended {report.appended}"
        )
        if every <= 0:
            return
        time.sleep(every)


@outbox_group.command("work")
def work_command() -> None:
    """Run the embedded job workers in this process until interrupted."""
    from mailservice.jobs.embedded import EmbeddedWorkers

    with user_errors(), EmbeddedWorkers(settings()):
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


def register(cli: click.Group) -> None:
    """Add the send and outbox commands to the top-level group."""
    cli.add_command(send_command)
    cli.add_command(outbox_group)
