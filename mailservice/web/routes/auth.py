"""Logging in and out, and the user's language."""

from __future__ import annotations

import logging
import secrets

from starlette.responses import Response

from mailservice.errors import LoginThrottledError
from mailservice.users.models import LOCALES
from mailservice.users.service import check_login
from mailservice.users.sessions import end_all_sessions, end_session, start_session
from mailservice.users.throttle import check_throttle, record_attempt
from mailservice.web.views import LOGIN_CSRF_COOKIE, SESSION_COOKIE, Ctx, page

log = logging.getLogger(__name__)


def _secure(ctx: Ctx) -> bool:
    # Behind a TLS proxy uvicorn's --proxy-headers turns the scheme into https.
    return ctx.request.url.scheme == "https"


@page(public=True)
def login_form(ctx: Ctx) -> Response:
    """The login page; sets the token its form must send back."""
    if ctx.login is not None:
        return ctx.redirect("/")
    return _login_page(ctx, error=None)


def _login_page(ctx: Ctx, error: str | None, status: int = 200) -> Response:
    token = secrets.token_urlsafe(24)
    next_url = ctx.request.query_params.get("next") or ctx.field("next") or "/"
    response = ctx.render(
        "login.html",
        status=status,
        login_csrf=token,
        error=error,
        next_url=next_url,
        email=ctx.field("email"),
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=_secure(ctx),
        path="/login",
    )
    return response


@page(public=True)
def login_submit(ctx: Ctx) -> Response:
    """Check the password (throttled), then open a session in a fresh cookie."""
    email, password = ctx.field("email").strip().lower(), ctx.field("password")
    ip = ctx.request.client.host if ctx.request.client else "unknown"
    try:
        check_throttle(ctx.db, email, ip)
    except LoginThrottledError:
        return _login_page(
            ctx,
            ctx.fmt.gettext("Too many failed attempts. Try again in 15 minutes."),
            429,
        )

    user = check_login(ctx.db, email, password)
    record_attempt(ctx.db, email, ip, user is not None)
    if user is None:
        log.info("login failed ip=%s", ip)
        return _login_page(ctx, ctx.fmt.gettext("Wrong e-mail or password."), 401)

    token, _ = start_session(
        ctx.db, user, ip=ip, user_agent=ctx.request.headers.get("user-agent")
    )
    response = ctx.back("/")
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=_secure(ctx),
        max_age=14 * 24 * 3600,
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@page()
def logout(ctx: Ctx) -> Response:
    """End this browser's session."""
    end_session(ctx.db, ctx.login)
    response = ctx.redirect("/login")
    response.delete_cookie(SESSION_COOKIE)
    return response


@page()
def logout_everywhere(ctx: Ctx) -> Response:
    """End every session of the user, on every device."""
    end_all_sessions(ctx.db, ctx.user.id)
    response = ctx.redirect("/login")
    response.delete_cookie(SESSION_COOKIE)
    return response


@page()
def set_language(ctx: Ctx) -> Response:
    """Switch the UI language of the user."""
    locale = ctx.field("locale")
    if locale in LOCALES:
        ctx.user.locale = locale
    return ctx.back("/")
