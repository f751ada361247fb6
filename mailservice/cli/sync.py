"""`mailservice sync [NAME]`: one pass over every account, or over one."""

from __future__ import annotations

import click

from mailservice.cli.context import settings, user_errors
from mailservice.sync.engine import AccountReport, sync_account, sync_all


@click.command("sync")
@click.argument("name", required=False)
def sync_command(name: str | None) -> None:
    """Sync account NAME, or every account; exits 1 if any account failed."""
    with user_errors():
        current = settings()
        reports = [sync_account(current, name)] if name else sync_all(current)
    for report in reports:
        click.echo(_summary(report))
    if not reports:
        click.echo("no accounts to sync; add one with `mailservice account add`")
    if any(not report.ok for report in reports):
        raise SystemExit(1)


def _summary(report: AccountReport) -> str:
    if not report.ok:
        return f"{report.account}: FAILED: {report.error}"
    return (
        f"{report.account}: {report.folders} folders ({report.folders_selected} "
        f"changed), {report.new_messages} new messages, {report.new_locations} new "
        f"in folders, {report.flags_changed} flag changes, {report.deleted} deleted "
        f"on server, {report.seconds:.2f} s"
    )


def register(cli: click.Group) -> None:
    """Add the sync commands to the top-level group."""
    cli.add_command(sync_command)
