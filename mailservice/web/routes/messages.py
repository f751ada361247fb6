"""One message: its sanitised body, raw source, attachments, and actions on it."""

from __future__ import annotations

from sqlalchemy import select
from starlette.responses import Response

from mailservice.accounts.models import Folder
from mailservice.errors import AccessDeniedError, NotFoundError
from mailservice.inbox.actions import change_flags, move_message, move_to_role
from mailservice.inbox.flags import FLAGGED, SEEN
from mailservice.inbox.parts import inline_images, part_bytes, raw_message
from mailservice.inbox.work import allow_remote_content, remote_content_allowed
from mailservice.messages.models import Attachment, MessageLocation
from mailservice.web.headers import download_headers, mail_frame_headers
from mailservice.web.safe_html import sanitize_mail_html, text_to_html
from mailservice.web.views import Ctx, page

PREVIEW_TYPES = {
    "image/png": "image",
    "image/jpeg": "image",
    "image/gif": "image",
    "image/webp": "image",
    "application/pdf": "pdf",
}
FLAG_CHANGES = {
    "read": ({SEEN}, set()),
    "unread": (set(), {SEEN}),
    "flag": ({FLAGGED}, set()),
    "unflag": (set(), {FLAGGED}),
}


@page()
def body(ctx: Ctx) -> Response:
    """The message body as a document for the sandboxed frame of the thread view."""
    message = ctx.access.require_message(ctx.db, ctx.request.path_params["message_id"])
    allow_remote = ctx.request.query_params.get(
        "remote"
    ) == "1" or remote_content_allowed(ctx.db, ctx.user.id, message.from_address)
    if message.body_html:
        attachments = list(
            ctx.db.scalars(
                select(Attachment).where(Attachment.message_id == message.id)
            )
        )
        images = inline_images(ctx.settings, message, attachments)
        safe = sanitize_mail_html(message.body_html, images, allow_remote)
        content, blocked = safe.html, safe.remote_blocked
    else:
        content, blocked = text_to_html(message.body_text or ""), False
    ctx.response_headers.update(mail_frame_headers(allow_remote))
    response = ctx.render("body_frame.html", content=content)
    response.headers["X-Remote-Blocked"] = "1" if blocked else "0"
    return response


@page()
def raw(ctx: Ctx) -> Response:
    """The message source as plain text, never rendered by the browser."""
    message = ctx.access.require_message(ctx.db, ctx.request.path_params["message_id"])
    headers = download_headers(f"message-{message.id}.eml", "text")
    headers["Content-Disposition"] = headers["Content-Disposition"].replace(
        "attachment", "inline", 1
    )
    headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return Response(
        raw_message(ctx.settings, message), media_type="text/plain", headers=headers
    )


@page()
def attachment(ctx: Ctx) -> Response:
    """An attachment under its real name; images and PDFs can be previewed."""
    part = ctx.db.get(Attachment, ctx.request.path_params["attachment_id"])
    if part is None:
        raise NotFoundError("no such attachment")
    message = ctx.access.require_message(ctx.db, part.message_id)
    content_type = part.content_type.lower()
    preview = (
        PREVIEW_TYPES.get(content_type)
        if ctx.request.query_params.get("preview") == "1"
        else None
    )
    data = part_bytes(raw_message(ctx.settings, message), part.part_path)
    name = part.filename or f"attachment-{part.id}"
    media = content_type if preview else "application/octet-stream"
    return Response(data, media_type=media, headers=download_headers(name, preview))


@page()
def flags(ctx: Ctx) -> Response:
    """Mark read or unread, flag or unflag, in every visible folder holding it."""
    add, remove = FLAG_CHANGES.get(ctx.field("change"), (set(), set()))
    for location in _locations(ctx):
        change_flags(ctx.db, ctx.settings, location, add, remove)
    return ctx.back("/")


@page()
def move(ctx: Ctx) -> Response:
    """Move a copy to another folder, to the archive, or to the trash."""
    location = _location(ctx)
    where = ctx.field("to")
    if where in ("archive", "trash"):
        move_to_role(ctx.db, ctx.settings, location, where)
    else:
        target = ctx.access.require_folder(ctx.db, ctx.int_param("folder_id") or 0)
        move_message(ctx.db, ctx.settings, location, target)
    return ctx.back("/")


@page()
def remote_always(ctx: Ctx) -> Response:
    """Always load remote images from this message's sender."""
    message = ctx.access.require_message(ctx.db, ctx.request.path_params["message_id"])
    allow_remote_content(ctx.db, ctx.user.id, message.from_address or "")
    return ctx.back("/")


def _locations(ctx: Ctx) -> list[MessageLocation]:
    message = ctx.access.require_message(ctx.db, ctx.request.path_params["message_id"])
    return list(
        ctx.db.scalars(
            select(MessageLocation)
            .join(Folder, Folder.id == MessageLocation.folder_id)
            .where(
                MessageLocation.message_id == message.id,
                MessageLocation.deleted_at.is_(None),
                Folder.account_id.in_(ctx.access.account_ids),
            )
        )
    )


def _location(ctx: Ctx) -> MessageLocation:
    wanted = ctx.int_param("location_id")
    for location in _locations(ctx):
        if location.id == wanted:
            return location
    raise AccessDeniedError("this copy of the message is not shared with you")
