"""`mailservice mailing ...` and `mailservice group ...`: bulk mailings."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from mailservice.cli.context import db_session, settings, user_errors

FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
FOLDER = click.Path(exists=True, file_okay=False, path_type=Path)


@click.group("mailing")
def mailing_group() -> None:
    """Bulk mailings: one message, many recipients, each with their own files."""


@mailing_group.command("create")
@click.option(
    "--spec",
    "spec_file",
    type=FILE,
    help="A TOML or JSON file with the mailing (keys as below).",
)
@click.option("--name")
@click.option("--account", help="Account to send from.")
@click.option("--kind", type=click.Choice(["transactional", "marketing"]))
@click.option(
    "--subject", help="Subject template, e.g. 'Faktura {{ document.number }}'."
)
@click.option("--body-file", type=FILE, help="Body template (HTML with Jinja2 fields).")
@click.option(
    "--document-file", type=FILE, help="HTML template of each recipient's own PDF."
)
@click.option("--document-name", help="File name template of the PDF.")
@click.option(
    "--addresses",
    type=click.Choice(["all", "contact", "people", "first"]),
    help="Which of a contact's addresses get it.",
)
@click.option(
    "--position",
    help="With --addresses people: only people whose "
    "position contains this (e.g. 'księg').",
)
@click.option("--group", help="Contacts of this group.")
@click.option("--owner", help="Contacts owned by this staff e-mail.")
@click.option("--all-contacts", is_flag=True, help="Every contact.")
@click.option("--failed-of", type=int, help="Recipients a previous mailing missed.")
@click.option(
    "--open-invoices",
    is_flag=True,
    help="Contacts with open invoices (needs the receivables part).",
)
@click.option("--contact", "contacts", type=int, multiple=True, help="A contact id.")
@click.option(
    "--to", "addresses_typed", multiple=True, help="An address typed by hand."
)
@click.option("--csv", "csv_file", type=FILE, help="Recipient list with their fields.")
@click.option(
    "--files", "files_dir", type=FOLDER, help="Folder of per-recipient files."
)
@click.option("--files-match", type=click.Choice(["none", "column", "nip", "pattern"]))
@click.option("--files-pattern", help="e.g. 'FS_{number}.pdf' or '*{nip}*'.")
@click.option(
    "--files-required",
    is_flag=True,
    default=None,
    help="A recipient without a file is not sent to.",
)
@click.option("--signature/--no-signature", default=None)
def create_command(spec_file, **options) -> None:
    """Make a draft mailing and list what stands in the way of sending it."""
    from mailservice.mailings.building import build_mailing

    with user_errors(), db_session() as session:
        mailing, notes = build_mailing(session, settings(), spec_file, options)
        mailing_id = mailing.id
    for note in notes:
        click.echo(note)
    click.echo(f"mailing {mailing_id} created (draft)")
    _show_problems(mailing_id)


def _show_problems(mailing_id: int, limit: int = 50) -> None:
    from mailservice.mailings.problems import recipient_problems
    from mailservice.mailings.recipients import count_recipients, get_mailing

    with user_errors(), db_session() as session:
        mailing = get_mailing(session, mailing_id)
        total = count_recipients(session, mailing_id)
        problems = list(recipient_problems(session, mailing))
    blocking = [p for p in problems if p.blocking]
    click.echo(
        f"{total} recipients; {len(blocking)} cannot get it, "
        f"{len(problems) - len(blocking)} warnings"
    )
    for problem in problems[:limit]:
        mark = "SKIP" if problem.blocking else "warn"
        click.echo(
            f"  {mark} #{problem.position} {problem.name or ''} "
            f"<{problem.address or '-'}>: {problem.detail}"
        )
    if len(problems) > limit:
        click.echo(f"  ... and {len(problems) - limit} more")


@mailing_group.command("list")
def list_command() -> None:
    """List mailings, newest first."""
    from sqlalchemy import select

    from mailservice.mailings.models import Mailing

    with user_errors(), db_session() as session:
        rows = session.execute(
            select(Mailing.id, Mailing.state, Mailing.kind, Mailing.name).order_by(
                Mailing.id.desc()
            )
        ).all()
    for row in rows:
        click.echo(f"{row.id}\t{row.state}\t{row.kind}\t{row.name}")


@mailing_group.command("problems")
@click.argument("mailing_id", type=int)
def problems_command(mailing_id: int) -> None:
    """List the recipients that cannot get the message, and warnings."""
    _show_problems(mailing_id, limit=10**9)


@mailing_group.command("preview")
@click.argument("mailing_id", type=int)
@click.option(
    "--recipient",
    "position",
    type=int,
    default=1,
    show_default=True,
    help="The recipient's number in the list.",
)
@click.option(
    "--save",
    "save_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the HTML and the attachments into this folder.",
)
def preview_command(mailing_id: int, position: int, save_dir: Path | None) -> None:
    """Show the message as one recipient will get it."""
    from mailservice.mailings.preview import preview_message

    with user_errors(), db_session() as session:
        preview = preview_message(session, settings(), mailing_id, position)
    click.echo(f"To: {preview.to}\nSubject: {preview.subject}\n")
    click.echo(preview.text)
    for name, _kind, data in preview.attachments:
        click.echo(f"[attachment] {name} ({len(data)} bytes)")
    if save_dir:
        save_dir.mkdir(parents=True, exist_ok=True)
        (save_dir / "message.html").write_text(preview.html, encoding="utf-8")
        for name, _kind, data in preview.attachments:
            (save_dir / name).write_bytes(data)
        click.echo(f"saved to {save_dir}")


@mailing_group.command("test")
@click.argument("mailing_id", type=int)
@click.option("--to", "address", required=True, help="Your own address.")
@click.option("--recipient", "position", type=int, default=1, show_default=True)
def test_command(mailing_id: int, address: str, position: int) -> None:
    """Send yourself the message one recipient would get."""
    from mailservice.cli.send import _wait_and_report
    from mailservice.mailings.preview import send_test

    current = settings()
    with user_errors():
        with db_session() as session:
            outgoing_id = send_test(session, current, mailing_id, position, address).id
        click.echo(f"test message {outgoing_id} queued to {address}")
        _wait_and_report(current, outgoing_id, 120.0)


@mailing_group.command("send")
@click.argument("mailing_id", type=int)
@click.option(
    "--wait/--no-wait",
    default=True,
    show_default=True,
    help="Show progress until every message is sent or failed.",
)
def send_command(mailing_id: int, wait: bool) -> None:
    """Start the mailing and show its progress (Ctrl-C leaves it running)."""
    from mailservice.jobs.broker import setup_broker
    from mailservice.mailings.running import start_mailing

    current = settings()
    setup_broker(current)
    with user_errors():
        with db_session() as session:
            waiting = start_mailing(session, current, mailing_id)
        click.echo(
            f"mailing {mailing_id} running: {waiting} recipients handed to the workers"
        )
        if wait:
            _watch(current, mailing_id)


def _watch(current, mailing_id: int) -> None:
    workers = None
    if not current.broker_url:
        # Embedded default: no worker runs elsewhere, so this process works.
        from mailservice.jobs.embedded import EmbeddedWorkers

        workers = EmbeddedWorkers(current, sweep_every=5.0).start()
    try:
        _progress_bar(mailing_id)
    except KeyboardInterrupt:
        click.echo(
            f"\nmailing {mailing_id} keeps running; "
            f"`mailservice mailing progress {mailing_id}` shows where it is"
            + (
                ""
                if current.broker_url
                else " (embedded: it goes on when `mailservice outbox work` runs)"
            )
        )
    finally:
        if workers is not None:
            workers.stop()


def _progress_bar(mailing_id: int, every: float = 0.5) -> None:
    from mailservice.mailings.progress import mailing_progress
    from mailservice.mailings.running import finish_if_done

    with db_session() as session:
        total = mailing_progress(session, mailing_id).total
    line = ""
    with click.progressbar(
        length=total,
        label=f"mailing {mailing_id}",
        item_show_func=lambda _item: line,
        show_eta=False,
        file=sys.stderr,
    ) as bar:
        done = 0
        while True:
            with db_session() as session:
                finished = finish_if_done(session, mailing_id)
                progress = mailing_progress(session, mailing_id)
            line = progress.line()
            bar.update(progress.done - done, line)
            done = progress.done
            if finished or progress.state not in ("running",):
                break
            time.sleep(every)
    click.echo(f"mailing {mailing_id} {progress.state}: {line}")


@mailing_group.command("progress")
@click.argument("mailing_id", type=int)
def progress_command(mailing_id: int) -> None:
    """Counts per state, rate and time left, once."""
    from mailservice.mailings.progress import mailing_progress
    from mailservice.mailings.running import finish_if_done

    with user_errors(), db_session() as session:
        finish_if_done(session, mailing_id)
        progress = mailing_progress(session, mailing_id)
    click.echo(
        f"mailing {mailing_id} {progress.state}: {progress.done} of "
        f"{progress.total} done; {progress.line()}"
    )


@mailing_group.command("pause")
@click.argument("mailing_id", type=int)
def pause_command(mailing_id: int) -> None:
    """Stop sending; queued messages are held until resumed."""
    from mailservice.mailings.running import pause_mailing

    with user_errors(), db_session() as session:
        held = pause_mailing(session, mailing_id)
    click.echo(f"mailing {mailing_id} paused; {held} queued messages held")


@mailing_group.command("resume")
@click.argument("mailing_id", type=int)
def resume_command(mailing_id: int) -> None:
    """Go on sending a paused mailing."""
    from mailservice.jobs.broker import setup_broker
    from mailservice.mailings.running import resume_mailing

    setup_broker(settings())
    with user_errors(), db_session() as session:
        released = resume_mailing(session, settings(), mailing_id)
    click.echo(f"mailing {mailing_id} running again; {released} held messages released")


@mailing_group.command("cancel")
@click.argument("mailing_id", type=int)
def cancel_command(mailing_id: int) -> None:
    """Send nothing more of this mailing."""
    from mailservice.mailings.running import cancel_mailing

    with user_errors(), db_session() as session:
        stopped = cancel_mailing(session, mailing_id)
    click.echo(f"mailing {mailing_id} cancelled; {stopped} recipients not sent to")


@mailing_group.command("report")
@click.argument("mailing_id", type=int)
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write every recipient's outcome to this CSV file ('-' for stdout).",
)
def report_command(mailing_id: int, csv_path: Path | None) -> None:
    """Sent, failed with reasons, bounced and replied."""
    from mailservice.mailings.report import (
        report_rows,
        report_summary,
        write_report_csv,
    )

    with user_errors(), db_session() as session:
        if csv_path is not None:
            if str(csv_path) == "-":
                write_report_csv(session, mailing_id, sys.stdout)
                return
            with csv_path.open("w", encoding="utf-8", newline="") as handle:
                count = write_report_csv(session, mailing_id, handle)
            click.echo(f"{count} rows written to {csv_path}")
        summary = report_summary(session, mailing_id)
        click.echo(", ".join(f"{key} {value}" for key, value in summary.items()))
        for row in report_rows(session, mailing_id):
            if row.outcome not in ("sent",):
                click.echo(
                    f"  #{row.position} {row.address or '-'}: {row.outcome}"
                    + (f": {row.reason}" if row.reason else "")
                )


@mailing_group.command("from-failures")
@click.argument("mailing_id", type=int)
def from_failures_command(mailing_id: int) -> None:
    """A new draft with the same message for the recipients this one missed."""
    from mailservice.mailings.report import mailing_from_failures

    with user_errors(), db_session() as session:
        new_id = mailing_from_failures(session, settings(), mailing_id).id
    click.echo(f"mailing {new_id} created (draft) from the failures of {mailing_id}")
    _show_problems(new_id)


@mailing_group.command("unsubscribe")
@click.argument("address")
@click.option("--undo", is_flag=True, help="Take the address off the list again.")
def unsubscribe_command(address: str, undo: bool) -> None:
    """Put an address on the suppression list of marketing mail (or take it off)."""
    from mailservice.mailings.unsubscribe import suppress, unsuppress

    with user_errors(), db_session() as session:
        if undo:
            done = unsuppress(session, address)
            click.echo("taken off the list" if done else "was not on the list")
        else:
            suppress(session, address, "manual")
            click.echo(f"{address} gets no more marketing mail")


@click.group("group")
def group_group() -> None:
    """Contact groups that mailings can go to."""


@group_group.command("add")
@click.argument("name")
@click.argument("contact_ids", type=int, nargs=-1)
def group_add_command(name: str, contact_ids: tuple[int, ...]) -> None:
    """Add contacts to a group (made when new)."""
    from mailservice.mailings.groups import add_to_group

    with user_errors(), db_session() as session:
        added = add_to_group(session, name, list(contact_ids))
    click.echo(f"{added} contacts added to {name}")


@group_group.command("list")
def group_list_command() -> None:
    """Groups and how many contacts each has."""
    from mailservice.mailings.groups import list_groups

    with user_errors(), db_session() as session:
        for name, count in list_groups(session):
            click.echo(f"{name}\t{count}")


def register(cli: click.Group) -> None:
    """Add the mailing and group commands to the top-level group."""
    cli.add_command(mailing_group)
    cli.add_command(group_group)
