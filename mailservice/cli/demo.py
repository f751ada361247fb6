"""`mailservice demo`: the embedded demo, with no mail account or server needed."""

from __future__ import annotations

import logging

import click

from mailservice.cli.context import settings, user_errors


@click.command("demo")
@click.option("--keep-running", is_flag=True,
              help="Leave the demo IMAP and SMTP servers up until Ctrl-C.")
@click.option("--imap-port", type=click.IntRange(1, 65535),
              help="Port for the demo IMAP server (default: last run's, or any free).")
@click.option("--smtp-port", type=click.IntRange(1, 65535),
              help="Port for the demo SMTP server (default: last run's, or any free).")
def demo_command(keep_running: bool, imap_port: int | None,
                 smtp_port: int | None) -> None:
    """Sync a sample company mailbox served on loopback, and show what was found."""
    # aiosmtpd logs every SMTP command at info; the demo's own lines say enough.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    from mailservice.demo.runner import run_demo

    with user_errors():
        run_demo(settings(), imap_port=imap_port, smtp_port=smtp_port,
                 keep_running=keep_running, echo=click.echo)


def register(cli: click.Group) -> None:
    """Add the demo command to the top-level group."""
    cli.add_command(demo_command)
