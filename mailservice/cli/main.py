"""Entry point: `mailservice COMMAND`; each part of the product adds its commands."""

from __future__ import annotations

import click

from mailservice.cli.context import db_session, settings, setup_logging, user_errors
from mailservice.db.migrate import upgrade_database


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log per-message detail.")
def cli(verbose: bool) -> None:
    """mailservice: company mailboxes synced, linked to contacts and threaded."""
    setup_logging(verbose)


@cli.command()
def init() -> None:
    """Create the database, or upgrade it to the newest schema."""
    with user_errors():
        current = settings()
        current.data_dir.mkdir(parents=True, exist_ok=True)
        upgrade_database(current.effective_database_url)
    click.echo(f"database ready: {_shown_url(current.effective_database_url)}")


def _shown_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _register() -> None:
    from mailservice.cli import (
        accounts,
        contacts,
        demo,
        extract,
        mailings,
        processes,
        send,
        stats,
        sync,
        threads,
        users,
    )

    for module in (
        accounts, contacts, demo, extract, mailings, processes, send, stats, sync,
        threads, users,
    ):
        module.register(cli)


_register()

__all__ = ["cli", "db_session"]
