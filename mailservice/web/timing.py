"""Server-Timing (W3C): each response says how long the app took to make it.

Browsers show it in their developer tools, and the web benchmark reads it to
report server time apart from the load tool's own queueing.
"""

from __future__ import annotations

import time


class ServerTiming:
    """ASGI middleware adding `Server-Timing: app;dur=<ms>` to every response."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed_send(message) -> None:
            if message["type"] == "http.response.start":
                took = (time.perf_counter() - started) * 1000
                headers = list(message.get("headers", []))
                headers.append((b"server-timing", f"app;dur={took:.2f}".encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send=timed_send)
