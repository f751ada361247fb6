"""The web inbox as an ASGI app, and the function that serves it."""

from __future__ import annotations

import logging
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.convertors import IntegerConvertor, register_url_convertor
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from mailservice.config import Settings
from mailservice.db.session import session_factory
from mailservice.web.routes import auth, mail, mailings, messages, people, search
from mailservice.web.timing import ServerTiming

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"

GET, POST = ["GET"], ["POST"]


class RowIdConvertor(IntegerConvertor):
    """A row id in a path: at most 18 digits, so it always fits a 64-bit integer.

    A longer number would reach the database and fail there (a 500) instead of
    being a plain 404.
    """

    regex = "[0-9]{1,18}"


register_url_convertor("id", RowIdConvertor())


def routes() -> list:
    """Every URL of the inbox."""
    return [
        Route("/login", auth.login_form, methods=GET),
        Route("/login", auth.login_submit, methods=POST),
        Route("/logout", auth.logout, methods=POST),
        Route("/logout-everywhere", auth.logout_everywhere, methods=POST),
        Route("/language", auth.set_language, methods=POST),
        Route("/", mail.home, methods=GET),
        Route("/folders/{folder_id:id}", mail.folder_page, methods=GET),
        Route("/threads/{thread_id:id}", mail.thread_page, methods=GET),
        Route("/threads/{thread_id:id}/assign", mail.assign, methods=POST),
        Route("/threads/{thread_id:id}/handled", mail.handled, methods=POST),
        Route("/counts", mail.counts, methods=GET),
        Route("/messages/{message_id:id}/body", messages.body, methods=GET),
        Route("/messages/{message_id:id}/raw", messages.raw, methods=GET),
        Route("/messages/{message_id:id}/flags", messages.flags, methods=POST),
        Route("/messages/{message_id:id}/move", messages.move, methods=POST),
        Route(
            "/messages/{message_id:id}/remote", messages.remote_always, methods=POST
        ),
        Route("/attachments/{attachment_id:id}", messages.attachment, methods=GET),
        Route("/contacts/{contact_id:id}", people.contact, methods=GET),
        Route("/to-assign", people.to_assign, methods=GET),
        Route("/to-assign", people.to_assign_submit, methods=POST),
        Route("/search", search.search, methods=GET),
        *mailings.routes(),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]


def create_app(settings: Settings) -> Starlette:
    """The inbox app on the database of `settings`."""
    app = Starlette(routes=routes(), middleware=[Middleware(ServerTiming)])
    app.state.settings = settings
    app.state.sessions = session_factory(settings.effective_database_url)
    log.info("web app ready")
    return app


def run_web(settings: Settings, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve the inbox with uvicorn until interrupted (blocks)."""
    import uvicorn

    log.info("serving the inbox on http://%s:%s", host, port)
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
        access_log=False,
        log_config=None,
    )
