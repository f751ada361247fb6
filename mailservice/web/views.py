"""What every page handler gets, and the wrapper that checks login and CSRF.

Handlers are plain functions `handler(ctx) -> Response` run in a worker thread
with their own database session; the wrapper logs the user in from the session
cookie, refuses a POST without the session's CSRF token, commits on success and
turns domain errors into pages a person can read.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import quote

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from mailservice.config import Settings
from mailservice.errors import AccessDeniedError, MailserviceError, NotFoundError
from mailservice.users.access import Access, access_of
from mailservice.users.models import User, UserSession
from mailservice.users.sessions import csrf_matches, find_session
from mailservice.web.headers import PAGE_HEADERS
from mailservice.web.i18n import DEFAULT_LOCALE, Formats, formats
from mailservice.web.templating import environment

log = logging.getLogger(__name__)

SESSION_COOKIE = "ms_session"
LOGIN_CSRF_COOKIE = "ms_login_csrf"


@dataclass
class Ctx:
    """One request as a handler sees it."""

    request: Request
    db: Session
    settings: Settings
    form: FormData | None
    login: UserSession | None
    fmt: Formats
    response_headers: dict[str, str] = field(default_factory=dict)
    _access: Access | None = None

    @property
    def user(self) -> User:
        """The logged-in user (handlers behind login only)."""
        assert self.login is not None
        return self.login.user

    @property
    def access(self) -> Access:
        """The accounts the user may read, looked up once per request."""
        if self._access is None:
            self._access = access_of(self.db, self.user)
        return self._access

    def field(self, name: str, default: str = "") -> str:
        """A form field as text."""
        value = self.form.get(name) if self.form is not None else None
        return value if isinstance(value, str) else default

    def int_param(self, name: str) -> int | None:
        """A query or form parameter as an int, None when absent or not a number."""
        raw = self.request.query_params.get(name) or self.field(name)
        return int(raw) if raw and raw.isdigit() else None

    def render(self, template: str, status: int = 200, **values) -> HTMLResponse:
        """A page from a template, with the user's language and the security headers."""
        context = {
            "gettext": self.fmt.gettext,
            "ngettext": self.fmt.ngettext,
            "_": self.fmt.gettext,
            "fmt": self.fmt,
            "folder_label": self.fmt.folder_label,
            "login": self.login,
            "user": self.login.user if self.login else None,
            "csrf": self.login.csrf_token if self.login else "",
            "path": self.request.url.path,
            "query_string": self.request.url.query,
            **values,
        }
        html = environment().get_template(template).render(context)
        headers = {**PAGE_HEADERS, **self.response_headers}
        if self.request.url.scheme == "https":
            headers["Strict-Transport-Security"] = "max-age=31536000"
        return HTMLResponse(html, status, headers=headers)

    def redirect(self, url: str) -> RedirectResponse:
        """See other (303): the browser follows with a GET."""
        return RedirectResponse(url, 303, headers=dict(self.response_headers))

    def back(self, fallback: str = "/") -> RedirectResponse:
        """Back to the page named in the form's `next` field, if it is ours."""
        target = self.field("next")
        ok = (
            target.startswith("/")
            and not target.startswith("//")
            and "\\" not in target
        )
        return self.redirect(target if ok else fallback)


Handler = Callable[[Ctx], Response]


def page(*, public: bool = False) -> Callable[[Handler], Callable]:
    """Make a handler a Starlette endpoint; `public` pages need no login."""

    def wrap(handler: Handler):
        async def endpoint(request: Request) -> Response:
            form = await request.form() if request.method == "POST" else None
            return await run_in_threadpool(_run, handler, request, form, public)

        endpoint.__name__ = handler.__name__
        return endpoint

    return wrap


def _run(handler: Handler, request: Request, form, public: bool) -> Response:
    db = request.app.state.sessions()
    try:
        ctx = _context(request, db, request.app.state.settings, form)
        return _handle(ctx, handler, public)
    finally:
        db.close()


def _handle(ctx: Ctx, handler: Handler, public: bool) -> Response:
    try:
        response = _refusal(ctx, public) or handler(ctx)
        ctx.db.commit()
        return response
    except (AccessDeniedError, NotFoundError) as exc:
        ctx.db.rollback()
        log.info("refused path=%s reason=%s", ctx.request.url.path, exc)
        return _error_page(ctx, 404, ctx.fmt.gettext("Not found"))
    except MailserviceError as exc:
        ctx.db.rollback()
        return _error_page(ctx, 400, ctx.fmt.plain(str(exc)))
    except BaseException:
        ctx.db.rollback()
        raise


def _context(request: Request, db: Session, settings: Settings, form) -> Ctx:
    login = find_session(db, request.cookies.get(SESSION_COOKIE))
    locale = login.user.locale if login else _browser_locale(request)
    return Ctx(request, db, settings, form, login, formats(locale))


def _refusal(ctx: Ctx, public: bool) -> Response | None:
    if ctx.login is None and not public:
        if ctx.request.method != "GET":
            return _error_page(ctx, 403, ctx.fmt.gettext("Please log in again."))
        target = quote(
            ctx.request.url.path
            + (f"?{ctx.request.url.query}" if ctx.request.url.query else ""),
            safe="/",
        )
        return RedirectResponse(f"/login?next={target}", 303)
    if ctx.request.method == "POST" and not _csrf_ok(ctx):
        log.warning("csrf refused path=%s", ctx.request.url.path)
        return _error_page(
            ctx,
            403,
            ctx.fmt.gettext(
                "This form has expired. Go back, reload the page and try again."
            ),
        )
    return None


def _csrf_ok(ctx: Ctx) -> bool:
    sent = ctx.field("csrf")
    if ctx.login is not None:
        return csrf_matches(ctx.login, sent)
    # Before login there is no session: the login form's token must match the
    # one set in its own cookie (double submit), so other sites cannot post it.
    cookie = ctx.request.cookies.get(LOGIN_CSRF_COOKIE, "")
    return bool(cookie) and bool(sent) and secrets.compare_digest(cookie, sent)


def _browser_locale(request: Request) -> str:
    accepted = request.headers.get("accept-language", "").lower()
    for part in accepted.split(","):
        tag = part.split(";")[0].strip()[:2]
        if tag in ("pl", "en"):
            return tag
    return DEFAULT_LOCALE


def _error_page(ctx: Ctx, status: int, message: str) -> Response:
    return ctx.render("error.html", status=status, message=message)
