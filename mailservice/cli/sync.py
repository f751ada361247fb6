"""`mailservice sync [NAME]` and `mailservice serve`: fetch mail now, or keep at it."""

from __future__ import annotations

import signal
import threading

import click

from mailservice.cli.context import settings, user_errors
from mailservice.sync.engine import AccountReport, sync_account, sync_all
from mailservice.sync.watch import run_watch


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


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address of the web app (not served yet: the watch runs alone).")
@click.option("--port", default=8000, show_default=True, type=int,
              help="Port of the web app (not served yet).")
def serve_command(host: str, port: int) -> None:
    """Keep every account synced: IDLE on the Inbox, poll the other folders."""
    # TODO: the web app joins `serve` in a later issue; host and port wait for it.
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with user_errors():
        run_watch(settings(), stop)


def register(cli: click.Group) -> None:
    """Add the sync commands to the top-level group."""
    cli.add_command(sync_command)
    cli.add_command(serve_command)
