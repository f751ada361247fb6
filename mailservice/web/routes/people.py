"""Contact pages and the to-assign list of unknown senders."""

from __future__ import annotations

from sqlalchemy import select
from starlette.responses import Response

from mailservice.contacts.models import Contact
from mailservice.inbox.contact_history import contact_page
from mailservice.inbox.folders import mailbox_tree
from mailservice.inbox.thread_list import Cursor
from mailservice.inbox.to_assign import assign_in_bulk, visible_unassigned
from mailservice.web.views import Ctx, page

TO_ASSIGN_SHOWN = 500


@page()
def contact(ctx: Ctx) -> Response:
    """A contact's data and people, and its history of mail the user may read."""
    cursor = Cursor.decode(ctx.request.query_params.get("after"))
    found = contact_page(
        ctx.db, ctx.access, ctx.request.path_params["contact_id"], cursor
    )
    return ctx.render(
        "contact.html",
        accounts=mailbox_tree(ctx.db, ctx.access),
        current_folder=None,
        found=found,
        first_page=cursor is None,
    )


@page()
def to_assign(ctx: Ctx) -> Response:
    """Unknown senders of visible mail, to assign to a contact or make one of."""
    return _to_assign_page(ctx, outcome=None)


@page()
def to_assign_submit(ctx: Ctx) -> Response:
    """Assign the ticked addresses in one go."""
    addresses = [a for a in ctx.form.getlist("address") if isinstance(a, str)]
    outcome = assign_in_bulk(
        ctx.db,
        ctx.settings,
        ctx.access,
        addresses,
        contact_id=ctx.int_param("contact_id"),
        create=ctx.field("action") == "create",
        ignore=ctx.field("action") == "ignore",
    )
    return _to_assign_page(ctx, outcome)


def _to_assign_page(ctx: Ctx, outcome) -> Response:
    senders = visible_unassigned(ctx.db, ctx.access)
    contacts = ctx.db.execute(select(Contact.id, Contact.name).order_by(Contact.name))
    return ctx.render(
        "to_assign.html",
        accounts=mailbox_tree(ctx.db, ctx.access),
        current_folder=None,
        senders=senders[:TO_ASSIGN_SHOWN],
        total=len(senders),
        contacts=list(contacts),
        outcome=outcome,
    )
