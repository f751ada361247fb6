"""Bulk mailing pages: list, create and edit, recipients and files, preview as a
recipient, test send, the problems before sending, start/pause/resume/cancel with
live progress, and the report with its CSV. A user sees and runs the mailings of
the accounts they may read. `routes()` also carries the public unsubscribe page
(routes/unsubscribe.py).
"""

from __future__ import annotations

import io
import logging
from itertools import islice

from sqlalchemy import select
from starlette.responses import Response, StreamingResponse

from mailservice.accounts.models import Account
from mailservice.errors import MailingError, MailserviceError, NotFoundError
from mailservice.inbox.folders import mailbox_tree
from mailservice.mailings import running
from mailservice.mailings.building import fill_recipients
from mailservice.mailings.csvlist import import_recipients_csv
from mailservice.mailings.files import add_file
from mailservice.mailings.models import DRAFT, RUNNING, Mailing, MailingRecipient
from mailservice.mailings.preview import preview_message, send_test
from mailservice.mailings.problems import recipient_problems, skipped_problems
from mailservice.mailings.progress import mailing_progress
from mailservice.mailings.recipients import add_by_hand, count_recipients, get_mailing
from mailservice.mailings.report import (
    mailing_from_failures,
    report_rows,
    report_summary,
    write_report_csv,
)
from mailservice.mailings.spec import (
    MailingSpec,
    create_mailing,
    spec_of,
    update_mailing,
)
from mailservice.web.headers import download_headers, mail_frame_headers
from mailservice.web.routes import unsubscribe
from mailservice.web.safe_html import sanitize_mail_html
from mailservice.web.views import Ctx, page

log = logging.getLogger(__name__)

PROBLEMS_SHOWN = 200
REPORT_SHOWN = 1000


def _mailing(ctx: Ctx) -> Mailing:
    mailing = get_mailing(ctx.db, ctx.request.path_params["mailing_id"])
    ctx.access.require_account(mailing.account_id)
    return mailing


def _render(ctx: Ctx, template: str, **values) -> Response:
    return ctx.render(
        f"mailings/{template}",
        accounts=mailbox_tree(ctx.db, ctx.access),
        current_folder=None,
        **values,
    )


@page()
def mailing_list(ctx: Ctx) -> Response:
    """The mailings of the accounts the user may read, newest first."""
    rows = ctx.db.execute(
        select(Mailing, Account.name)
        .join(Account, Account.id == Mailing.account_id)
        .where(Mailing.account_id.in_(ctx.access.account_ids))
        .order_by(Mailing.id.desc())
    ).all()
    return _render(ctx, "list.html", mailings=rows)


def _accounts(ctx: Ctx) -> list[Account]:
    return list(
        ctx.db.scalars(select(Account).where(Account.id.in_(ctx.access.account_ids)))
    )


@page()
def new_form(ctx: Ctx) -> Response:
    """An empty mailing form."""
    spec = MailingSpec(name="", account="", subject="", body="")
    return _render(
        ctx,
        "edit.html",
        spec=spec,
        mailing=None,
        error=None,
        sending_accounts=_accounts(ctx),
    )


def _spec_from_form(ctx: Ctx) -> MailingSpec:
    selection = {}
    if ctx.field("group").strip():
        selection["group"] = ctx.field("group").strip()
    if ctx.field("owner").strip():
        selection["owner"] = ctx.field("owner").strip()
    if ctx.field("all_contacts"):
        selection["all"] = True
    if ctx.field("failed_of").strip().isdigit():
        selection["failed_of"] = int(ctx.field("failed_of"))
    if ctx.field("open_invoices"):
        selection["open_invoices"] = True
    return MailingSpec(
        name=ctx.field("name").strip(),
        account=ctx.field("account"),
        subject=ctx.field("subject"),
        body=ctx.field("body"),
        kind=ctx.field("kind", "transactional"),
        locale=ctx.field("locale", "pl"),
        signature=bool(ctx.field("signature")),
        document=ctx.field("document") or None,
        document_filename=ctx.field("document_filename") or "dokument.pdf",
        addresses=ctx.field("addresses", "all"),
        person_position=ctx.field("person_position").strip() or None,
        selection=selection,
        files_match=ctx.field("files_match", "none"),
        files_pattern=ctx.field("files_pattern").strip() or None,
        files_required=bool(ctx.field("files_required")),
    )


def _uploads(ctx: Ctx, name: str) -> list[tuple[str, bytes]]:
    found = []
    for item in ctx.form.getlist(name) if ctx.form is not None else []:
        if hasattr(item, "filename") and item.filename:
            found.append((item.filename, item.file.read()))
    return found


@page()
def new_submit(ctx: Ctx) -> Response:
    """Create the draft with its recipients and files, or show the form's errors."""
    spec = _spec_from_form(ctx)
    try:
        account = ctx.db.scalar(select(Account).where(Account.name == spec.account))
        if account is None:
            raise MailingError("choose the account to send from")
        ctx.access.require_account(account.id)
        mailing = create_mailing(ctx.db, ctx.settings, spec, ctx.user.id)
        _add_recipients(ctx, mailing)
    except MailserviceError as exc:
        ctx.db.rollback()
        return _render(
            ctx,
            "edit.html",
            spec=spec,
            mailing=None,
            error=str(exc),
            sending_accounts=_accounts(ctx),
        )
    return ctx.redirect(f"/mailings/{mailing.id}")


def _add_recipients(ctx: Ctx, mailing: Mailing) -> None:
    for _name, data in _uploads(ctx, "csv"):
        import_recipients_csv(ctx.db, mailing, data)
    typed = [line for line in ctx.field("to").splitlines() if line.strip()]
    if typed:
        add_by_hand(ctx.db, mailing, typed)
    for name, data in _uploads(ctx, "files"):
        add_file(ctx.db, ctx.settings, mailing, name, data)
    fill_recipients_quietly(ctx, mailing)


def fill_recipients_quietly(ctx: Ctx, mailing: Mailing) -> None:
    """Rebuild the filter's rows (a draft without any recipient yet is fine)."""
    try:
        fill_recipients(ctx.db, ctx.settings, mailing, {})
    except MailingError:
        if count_recipients(ctx.db, mailing.id):
            raise


@page()
def edit_form(ctx: Ctx) -> Response:
    """The form of a draft mailing."""
    mailing = _mailing(ctx)
    return _render(
        ctx,
        "edit.html",
        spec=spec_of(ctx.db, mailing),
        mailing=mailing,
        error=None,
        sending_accounts=_accounts(ctx),
    )


@page()
def edit_submit(ctx: Ctx) -> Response:
    """Save a draft and add the recipients and files given with it."""
    mailing = _mailing(ctx)
    spec = _spec_from_form(ctx)
    try:
        update_mailing(ctx.db, ctx.settings, mailing, spec)
        ctx.access.require_account(mailing.account_id)
        _add_recipients(ctx, mailing)
    except MailserviceError as exc:
        ctx.db.rollback()
        return _render(
            ctx,
            "edit.html",
            spec=spec,
            mailing=mailing,
            error=str(exc),
            sending_accounts=_accounts(ctx),
        )
    return ctx.redirect(f"/mailings/{mailing.id}")


@page()
def overview(ctx: Ctx) -> Response:
    """A mailing's state: recipients, problems, preview and test, actions, progress."""
    mailing = _mailing(ctx)
    if mailing.state == RUNNING:
        running.finish_if_done(ctx.db, mailing.id)
        ctx.db.refresh(mailing)
    if mailing.state == DRAFT:
        problems = list(islice(recipient_problems(ctx.db, mailing), PROBLEMS_SHOWN))
    else:  # marked when it started: no need to look at every recipient again
        problems = skipped_problems(ctx.db, mailing.id, PROBLEMS_SHOWN)
    return _render(
        ctx,
        "overview.html",
        mailing=mailing,
        account=ctx.db.get(Account, mailing.account_id),
        total=count_recipients(ctx.db, mailing.id),
        problems=problems,
        progress=mailing_progress(ctx.db, mailing.id),
        recipients=_first_recipients(ctx, mailing),
        notice=ctx.request.query_params.get("notice", ""),
    )


def _first_recipients(ctx: Ctx, mailing: Mailing) -> list[MailingRecipient]:
    return list(
        ctx.db.scalars(
            select(MailingRecipient)
            .where(MailingRecipient.mailing_id == mailing.id)
            .order_by(MailingRecipient.position)
            .limit(50)
        )
    )


@page()
def preview(ctx: Ctx) -> Response:
    """The message as the chosen recipient will get it."""
    mailing = _mailing(ctx)
    position = ctx.int_param("n") or 1
    try:
        shown = preview_message(ctx.db, ctx.settings, mailing.id, position)
        error = None
    except NotFoundError:
        raise
    except MailserviceError as exc:
        shown, error = None, str(exc)
    return _render(
        ctx,
        "preview.html",
        mailing=mailing,
        position=position,
        preview=shown,
        error=error,
        total=count_recipients(ctx.db, mailing.id),
    )


@page()
def preview_body(ctx: Ctx) -> Response:
    """The previewed HTML body, for the sandboxed frame of the preview page."""
    mailing = _mailing(ctx)
    shown = preview_message(
        ctx.db, ctx.settings, mailing.id, ctx.request.path_params["position"]
    )
    ctx.response_headers.update(mail_frame_headers(False))
    safe = sanitize_mail_html(shown.html, {}, False)
    return ctx.render("body_frame.html", content=safe.html)


@page()
def preview_file(ctx: Ctx) -> Response:
    """One attachment of the previewed message (the recipient's own PDF...)."""
    mailing = _mailing(ctx)
    shown = preview_message(
        ctx.db, ctx.settings, mailing.id, ctx.request.path_params["position"]
    )
    index = ctx.request.path_params["index"]
    if not 0 <= index < len(shown.attachments):
        raise NotFoundError("no such attachment")
    name, content_type, data = shown.attachments[index]
    kind = "pdf" if content_type == "application/pdf" else None
    return Response(data, media_type=content_type, headers=download_headers(name, kind))


@page()
def test_submit(ctx: Ctx) -> Response:
    """Send the chosen recipient's message to the user's own address."""
    mailing = _mailing(ctx)
    address = ctx.field("to").strip() or ctx.user.email
    position = ctx.int_param("n") or 1
    send_test(ctx.db, ctx.settings, mailing.id, position, address, ctx.user.id)
    return ctx.redirect(f"/mailings/{mailing.id}?notice=test")


def _action(name: str):
    @page()
    def act(ctx: Ctx) -> Response:
        mailing = _mailing(ctx)
        if name == "start":
            running.start_mailing(ctx.db, ctx.settings, mailing.id)
        elif name == "pause":
            running.pause_mailing(ctx.db, mailing.id)
        elif name == "resume":
            running.resume_mailing(ctx.db, ctx.settings, mailing.id)
        else:
            running.cancel_mailing(ctx.db, mailing.id)
        log.info("mailing=%s %s by user=%s", mailing.id, name, ctx.user.id)
        return ctx.redirect(f"/mailings/{mailing.id}")

    act.__doc__ = f"{name.capitalize()} the mailing."
    return act


start, pause, resume, cancel = (
    _action(name) for name in ("start", "pause", "resume", "cancel")
)


@page()
def report(ctx: Ctx) -> Response:
    """Sent, failed with reasons, bounced, replied; what did not go first."""
    mailing = _mailing(ctx)
    rows = []
    for row in report_rows(ctx.db, mailing.id):
        if row.outcome != "sent" or row.replied_at:
            rows.append(row)
        if len(rows) >= REPORT_SHOWN:
            break
    return _render(
        ctx,
        "report.html",
        mailing=mailing,
        rows=rows,
        summary=report_summary(ctx.db, mailing.id),
    )


@page()
def report_csv(ctx: Ctx) -> Response:
    """The whole report as a CSV file."""
    mailing = _mailing(ctx)
    buffer = io.StringIO()
    write_report_csv(ctx.db, mailing.id, buffer)
    headers = download_headers(f"mailing-{mailing.id}.csv", None)
    return StreamingResponse(
        iter([buffer.getvalue()]), media_type="text/csv", headers=headers
    )


@page()
def from_failures(ctx: Ctx) -> Response:
    """A new draft for the recipients this mailing did not reach."""
    mailing = _mailing(ctx)
    new = mailing_from_failures(ctx.db, ctx.settings, mailing.id, ctx.user.id)
    return ctx.redirect(f"/mailings/{new.id}")


def routes() -> list:
    """Every URL of the mailing pages, for the app's route list."""
    from starlette.routing import Route

    get, post = ["GET"], ["POST"]
    base = "/mailings/{mailing_id:int}"
    return [
        Route("/mailings", mailing_list, methods=get),
        Route("/mailings/new", new_form, methods=get),
        Route("/mailings/new", new_submit, methods=post),
        Route(base, overview, methods=get),
        Route(f"{base}/edit", edit_form, methods=get),
        Route(f"{base}/edit", edit_submit, methods=post),
        Route(f"{base}/preview", preview, methods=get),
        Route(f"{base}/preview/{{position:int}}/body", preview_body, methods=get),
        Route(
            f"{base}/preview/{{position:int}}/file/{{index:int}}",
            preview_file,
            methods=get,
        ),
        Route(f"{base}/test", test_submit, methods=post),
        Route(f"{base}/start", start, methods=post),
        Route(f"{base}/pause", pause, methods=post),
        Route(f"{base}/resume", resume, methods=post),
        Route(f"{base}/cancel", cancel, methods=post),
        Route(f"{base}/report", report, methods=get),
        Route(f"{base}/report.csv", report_csv, methods=get),
        Route(f"{base}/from-failures", from_failures, methods=post),
        Route("/unsubscribe/{token}", unsubscribe.confirm_page, methods=get),
        Route("/unsubscribe/{token}", unsubscribe.one_click, methods=post),
    ]
