"""`mailservice account ...`: connect mailboxes."""

from __future__ import annotations

import os

import click

from mailservice.accounts.service import (
    add_account,
    list_accounts,
    remove_account,
    set_secret,
)
from mailservice.cli.context import db_session, settings, user_errors

PASSWORD_ENV = "MAILSERVICE_ACCOUNT_PASSWORD"


@click.group("account")
def account_group() -> None:
    """Manage the mail accounts that are synced."""


@account_group.command("add")
@click.argument("name")
@click.option("--imap-host", required=True)
@click.option("--imap-port", type=int, required=True)
@click.option("--imap-security", type=click.Choice(["ssl", "starttls", "none"]), required=True)
@click.option("--username", required=True)
@click.option("--auth", "auth_method", type=click.Choice(["password", "xoauth2"]),
              default="password", show_default=True,
              help="xoauth2 takes an OAuth2 access token instead of a password.")
@click.option("--email", help="The account's own address (defaults to the username).")
@click.option("--smtp-host")
@click.option("--smtp-port", type=int)
@click.option("--smtp-security", type=click.Choice(["ssl", "starttls", "none"]))
def add_command(name, imap_host, imap_port, imap_security, username, auth_method,
                email, smtp_host, smtp_port, smtp_security) -> None:
    """Add account NAME; the password comes from $MAILSERVICE_ACCOUNT_PASSWORD or a prompt."""
    # The password is never an argument: it would show in `ps` and shell history.
    secret = os.environ.get(PASSWORD_ENV) or click.prompt(
        "Password" if auth_method == "password" else "Access token", hide_input=True
    )
    with user_errors(), db_session() as session:
        account = add_account(
            session, settings(), name=name, imap_host=imap_host, imap_port=imap_port,
            imap_security=imap_security, username=username, secret=secret,
            auth_method=auth_method, email=email, smtp_host=smtp_host,
            smtp_port=smtp_port, smtp_security=smtp_security,
        )
        click.echo(f"account {account.name!r} added (id {account.id})")


@account_group.command("list")
def list_command() -> None:
    """List the accounts with their servers and last sync."""
    with user_errors(), db_session() as session:
        for account in list_accounts(session):
            synced = account.last_sync_at.isoformat() if account.last_sync_at else "never"
            click.echo(
                f"{account.name}\t{account.username}@{account.imap_host}:"
                f"{account.imap_port}\tlast sync {synced}"
            )


@account_group.command("password")
@click.argument("name")
def password_command(name: str) -> None:
    """Store a new password (or token) for NAME, e.g. after a refused login."""
    secret = os.environ.get(PASSWORD_ENV) or click.prompt("Password", hide_input=True)
    with user_errors(), db_session() as session:
        set_secret(session, settings(), name, secret)
    click.echo(f"password of account {name!r} replaced")


@account_group.command("remove")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def remove_command(name: str, yes: bool) -> None:
    """Stop syncing NAME; its synced messages stay in the contacts' history."""
    if not yes:
        click.confirm(
            f"Remove account {name!r} with its folder list, outbox and mailings? "
            "Synced messages stay in the contacts' history.", abort=True
        )
    with user_errors(), db_session() as session:
        remove_account(session, name)
    click.echo(f"account {name!r} removed")


def register(cli: click.Group) -> None:
    """Add the account commands to the top-level group."""
    cli.add_command(account_group)
