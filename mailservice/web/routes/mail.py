"""Folders, thread lists and threads."""

from __future__ import annotations

from markupsafe import Markup
from starlette.responses import JSONResponse, Response

from mailservice.inbox.folders import mailbox_tree, unread_counts
from mailservice.inbox.thread_list import Cursor, folder_threads
from mailservice.inbox.thread_view import load_thread
from mailservice.inbox.work import assign_thread, colleagues, set_handled
from mailservice.messages.models import HEADERS_ONLY
from mailservice.web.headers import PAGE_HEADERS
from mailservice.web.routes.messages import PREVIEW_TYPES
from mailservice.web.safe_html import mentions_remote, text_to_html
from mailservice.web.views import Ctx, page


@page()
def home(ctx: Ctx) -> Response:
    """The first account's inbox, or an empty page when no mailbox is shared."""
    for account in mailbox_tree(ctx.db, ctx.access):
        for folder in account.folders:
            return ctx.redirect(f"/folders/{folder.id}")
    return ctx.render("empty.html", accounts=[], current_folder=None)


@page()
def folder_page(ctx: Ctx) -> Response:
    """A folder's threads, newest first, one page."""
    folder = ctx.access.require_folder(ctx.db, ctx.request.path_params["folder_id"])
    cursor = Cursor.decode(ctx.request.query_params.get("after"))
    threads = folder_threads(ctx.db, folder.id, cursor)
    return ctx.render(
        "folder.html",
        accounts=mailbox_tree(ctx.db, ctx.access),
        folder=folder,
        current_folder=folder.id,
        page=threads,
        first_page=cursor is None,
    )


@page()
def thread_page(ctx: Ctx) -> Response:
    """Every visible message of a thread, across folders, oldest first."""
    view = load_thread(ctx.db, ctx.access, ctx.request.path_params["thread_id"])
    accounts = mailbox_tree(ctx.db, ctx.access)
    return ctx.render(
        "thread.html",
        accounts=accounts,
        view=view,
        current_folder=ctx.int_param("folder"),
        colleagues=colleagues(ctx.db),
        folders_by_account={a.id: a.folders for a in accounts},
        request_remote=ctx.int_param("remote"),
        text_body=_text_body,
        previewable=PREVIEW_TYPES,
        has_remote=lambda message: mentions_remote(message.body_html),
    )


def _text_body(message) -> Markup:
    if message.parse_status == HEADERS_ONLY:
        return Markup('<p class="muted">…</p>')
    return text_to_html(message.body_text or "")


@page()
def assign(ctx: Ctx) -> Response:
    """Assign the thread to a colleague (or nobody)."""
    thread_id = ctx.request.path_params["thread_id"]
    load_thread(ctx.db, ctx.access, thread_id)  # access check
    assign_thread(ctx.db, thread_id, ctx.int_param("user_id"))
    return ctx.back(f"/threads/{thread_id}")


@page()
def handled(ctx: Ctx) -> Response:
    """Mark the thread handled, or open it again."""
    thread_id = ctx.request.path_params["thread_id"]
    load_thread(ctx.db, ctx.access, thread_id)  # access check
    set_handled(ctx.db, thread_id, ctx.user.id, ctx.field("handled") == "1")
    return ctx.back(f"/threads/{thread_id}")


@page()
def counts(ctx: Ctx) -> Response:
    """Unread counts of the visible folders, as JSON for the page to refresh."""
    folder_ids = [f.id for a in mailbox_tree(ctx.db, ctx.access) for f in a.folders]
    found = unread_counts(ctx.db, folder_ids)
    body = {str(folder_id): found.get(folder_id, 0) for folder_id in folder_ids}
    return JSONResponse(body, headers=PAGE_HEADERS)
