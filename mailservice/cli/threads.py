"""`mailservice threads ...`: look at conversations as threading joined them."""

from __future__ import annotations

from datetime import datetime

import click

from mailservice.cli.context import db_session, user_errors
from mailservice.threads.service import ThreadMessage, get_thread, list_threads


@click.group("threads")
def threads_group() -> None:
    """Show threads: which messages answer which, across folders and accounts."""


@threads_group.command("list")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1),
              help="How many threads, most recently active first.")
def list_command(limit: int) -> None:
    """List threads, newest activity first: id, last message, count, subject."""
    with user_errors(), db_session() as session:
        for thread in list_threads(session, limit):
            click.echo(
                f"{thread.id}\t{_when(thread.last_at)}\t{thread.message_count}\t"
                f"{thread.subject or '(no subject)'}"
            )


@threads_group.command("show")
@click.argument("thread_id", type=click.IntRange(1, 2**63 - 1))
def show_command(thread_id: int) -> None:
    """Show thread THREAD_ID: its messages in date order and the linked contacts."""
    with user_errors(), db_session() as session:
        view = get_thread(session, thread_id)
        thread = view.thread
        click.echo(f"thread {thread.id}: {thread.subject or '(no subject)'}")
        click.echo(
            f"{thread.message_count} messages, "
            f"{_when(thread.first_at)} to {_when(thread.last_at)}"
        )
        contacts = ", ".join(f"{name} (#{cid})" for cid, name in view.contacts)
        click.echo(f"contacts: {contacts or 'none linked'}")
        for message in view.messages:
            click.echo("")
            _echo_message(message)


def _echo_message(message: ThreadMessage) -> None:
    click.echo(f"{_when(message.sent_at)}  message {message.id}")
    click.echo(f"  from:    {message.sender or '(unknown)'}")
    click.echo(f"  to:      {', '.join(message.to) or '(none)'}")
    if message.cc:
        click.echo(f"  cc:      {', '.join(message.cc)}")
    click.echo(f"  subject: {message.subject or '(no subject)'}")
    for place in message.placements:
        gone = "  (removed from the server)" if place.removed else ""
        flags = place.flags or "no flags"
        click.echo(f"  folder:  {place.account}/{place.folder}  [{flags}]{gone}")


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "undated"


def register(cli: click.Group) -> None:
    """Add the threads commands to the top-level group."""
    cli.add_command(threads_group)
