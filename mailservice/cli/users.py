"""`mailservice user ...`: staff who log in to the web inbox, and their mailboxes."""

from __future__ import annotations

import os

import click

from mailservice.accounts.service import get_account
from mailservice.cli.context import db_session, user_errors
from mailservice.users.models import LOCALES, ROLES
from mailservice.users.service import (
    add_user,
    get_user,
    grant_account,
    list_users,
    revoke_account,
    set_password,
)
from mailservice.users.sessions import end_all_sessions

PASSWORD_ENV = "MAILSERVICE_USER_PASSWORD"


@click.group("user")
def user_group() -> None:
    """Manage the users of the web inbox."""


def _password() -> str:
    # Never an argument: it would show in `ps` and shell history.
    return os.environ.get(PASSWORD_ENV) or click.prompt(
        "Password", hide_input=True, confirmation_prompt=True
    )


@user_group.command("add")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), default="staff", show_default=True)
@click.option("--name", help="The name shown to colleagues.")
@click.option("--language", type=click.Choice(LOCALES), default="pl", show_default=True)
def add_command(email: str, role: str, name: str | None, language: str) -> None:
    """Add user EMAIL; password from $MAILSERVICE_USER_PASSWORD or a prompt."""
    password = _password()
    with user_errors(), db_session() as session:
        user = add_user(session, email, password, role=role, name=name, locale=language)
        click.echo(f"user {user.email} added as {user.role} (id {user.id})")


@user_group.command("password")
@click.argument("email")
def password_command(email: str) -> None:
    """Set a new password for EMAIL and log it out everywhere."""
    password = _password()
    with user_errors(), db_session() as session:
        user = get_user(session, email)
        set_password(session, user, password)
        end_all_sessions(session, user.id)
        click.echo(f"password of {user.email} changed; all its sessions ended")


@user_group.command("grant")
@click.argument("email")
@click.argument("accounts", nargs=-1, required=True)
def grant_command(email: str, accounts: tuple[str, ...]) -> None:
    """Let staff user EMAIL read the named ACCOUNTS."""
    with user_errors(), db_session() as session:
        user = get_user(session, email)
        for name in accounts:
            grant_account(session, user, get_account(session, name))
        click.echo(f"{user.email} may read: {', '.join(accounts)}")


@user_group.command("revoke")
@click.argument("email")
@click.argument("accounts", nargs=-1, required=True)
def revoke_command(email: str, accounts: tuple[str, ...]) -> None:
    """Take the named ACCOUNTS away from user EMAIL."""
    with user_errors(), db_session() as session:
        user = get_user(session, email)
        for name in accounts:
            revoke_account(session, user, get_account(session, name))
        click.echo(f"{user.email} may no longer read: {', '.join(accounts)}")


@user_group.command("list")
def list_command() -> None:
    """List users with their role, language and granted accounts."""
    with user_errors(), db_session() as session:
        for user in list_users(session):
            granted = "all" if user.sees_all_accounts else str(len(user.grants))
            click.echo(f"{user.email}\t{user.role}\t{user.locale}\taccounts: {granted}")


def register(cli: click.Group) -> None:
    """Add the user commands to the top-level group."""
    cli.add_command(user_group)
