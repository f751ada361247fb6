"""A live inbox server and Debian's Chromium driven by Playwright, for browser tests.

Chromium is /usr/bin/chromium (scripts/bootstrap.sh --test installs it); a missing
browser fails the tests. Every request the page makes goes through `Browser.route`:
requests to any host but the test server are recorded and aborted, so a test can
assert that nothing left for a remote host, and nothing ever does.
"""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator
from urllib.parse import urlsplit

import uvicorn
from playwright.sync_api import Page, sync_playwright

from mailservice.config import Settings
from mailservice.web.app import create_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HOST = "127.0.0.1"


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@contextmanager
def live_server(settings: Settings) -> Iterator[str]:
    """The inbox served by uvicorn in a thread; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(
        create_app(settings),
        host=HOST,
        port=port,
        log_level="warning",
        access_log=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the inbox server did not start")
        time.sleep(0.02)
    try:
        yield f"http://{HOST}:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@dataclass
class Watch:
    """What the page tried that it must not: remote requests, dialogs, scripts."""

    base_url: str
    remote_requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)

    def route(self, route) -> None:
        """Let requests to the test server through; record and abort all others."""
        url = route.request.url
        parts = urlsplit(url)
        if (
            parts.scheme in ("data", "blob", "about")
            or f"{parts.scheme}://{parts.netloc}" == self.base_url
        ):
            route.continue_()
            return
        self.remote_requests.append(url)
        route.abort()


@contextmanager
def browser_page(base_url: str) -> Iterator[tuple[Page, Watch]]:
    """A fresh Chromium page watched by a `Watch`."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        context = browser.new_context(
            base_url=base_url, locale="pl-PL", viewport={"width": 1280, "height": 800}
        )
        watch = Watch(base_url)
        context.route("**/*", watch.route)
        page = context.new_page()
        page.on(
            "dialog",
            lambda dialog: (watch.dialogs.append(dialog.message), dialog.dismiss()),
        )
        page.on("console", lambda message: watch.console.append(message.text))
        page.set_default_timeout(10_000)
        try:
            yield page, watch
        finally:
            context.close()
            browser.close()


def log_in(page: Page, email: str, password: str) -> None:
    """Log in through the form as a person would."""
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button")
    page.wait_for_url(lambda url: "/login" not in url)
