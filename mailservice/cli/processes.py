"""The long-running processes: `serve` (all in one), `web`, `watch`, `scheduler`.

Production runs each role on its own (docker-compose.yml) with Dramatiq workers
(`dramatiq mailservice.jobs.worker`) beside them; the embedded default runs all
of it, worker threads included, in the one `serve` process.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading

import click

from mailservice.cli.context import settings, user_errors
from mailservice.db.migrate import upgrade_database

log = logging.getLogger(__name__)


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    return stop


def _thread(name: str, target, *args) -> threading.Thread:
    thread = threading.Thread(target=target, args=args, name=name, daemon=True)
    thread.start()
    return thread


def _run_web_until(current, host: str, port: int, stop: threading.Event) -> None:
    """Serve the web app in a thread until `stop` is set, then shut it down gently.

    uvicorn in the main thread would take SIGTERM for itself and re-raise it once
    done, so the other roles would never hear of it; in a thread it leaves the
    signals to us.
    """
    import uvicorn

    from mailservice.web.app import create_app

    config = uvicorn.Config(create_app(current), host=host, port=port,
                            proxy_headers=True, access_log=False, log_config=None)
    server = uvicorn.Server(config)
    web = _thread("web", server.run)
    while not stop.wait(0.5):
        if not web.is_alive():
            raise click.ClickException(f"the web app stopped; is {host}:{port} free?")
    server.should_exit = True
    web.join(timeout=15)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def serve_command(host: str, port: int) -> None:
    """Run everything in one process: web app, live sync, scheduler and workers."""
    from mailservice.jobs.embedded import EmbeddedWorkers
    from mailservice.jobs.scheduler import default_tasks, run_scheduler
    from mailservice.sync.watch import run_watch

    current = settings()
    stop = _stop_on_signals()
    with user_errors():
        upgrade_database(current.effective_database_url)
        embedded = not current.broker_url
        workers = EmbeddedWorkers(current) if embedded else contextlib.nullcontext()
        with workers:
            threads = [
                _thread("watch", run_watch, current, stop),
                _thread("scheduler", run_scheduler, current, stop,
                        default_tasks(with_sweep=not embedded)),
            ]
            try:
                _run_web_until(current, host, port, stop)
            finally:
                stop.set()
            for thread in threads:
                thread.join(timeout=10)
    log.info("serve stopped")


@click.command("web")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def web_command(host: str, port: int) -> None:
    """Run the web inbox alone (production: beside watch, scheduler and workers)."""
    stop = _stop_on_signals()
    with user_errors():
        _run_web_until(settings(), host, port, stop)


@click.command("watch")
def watch_command() -> None:
    """Keep every account synced: IDLE on the Inbox, poll the other folders."""
    from mailservice.sync.watch import run_watch

    stop = _stop_on_signals()
    with user_errors():
        run_watch(settings(), stop)


@click.command("scheduler")
def scheduler_command() -> None:
    """Run the periodic work: body extraction, search indexing, outbox sweeps."""
    from mailservice.jobs.scheduler import run_scheduler

    stop = _stop_on_signals()
    with user_errors():
        run_scheduler(settings(), stop)


def register(cli: click.Group) -> None:
    """Add the process commands to the top-level group."""
    for command in (serve_command, web_command, watch_command, scheduler_command):
        cli.add_command(command)
