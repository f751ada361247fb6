"""The search page: words and filters over the mail the user may read."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from starlette.responses import Response

from mailservice.contacts.models import Contact
from mailservice.inbox.folders import mailbox_tree
from mailservice.inbox.search import SearchQuery, search_messages
from mailservice.web.views import Ctx, page


@page()
def search(ctx: Ctx) -> Response:
    """Run the query in the URL and show one page of hits."""
    params = ctx.request.query_params
    query = SearchQuery(
        words=params.get("q", "")[:500],
        contact_id=ctx.int_param("contact"),
        account_id=ctx.int_param("account"),
        folder_id=ctx.int_param("folder"),
        since=_day(params.get("since")),
        until=_day(params.get("until")),
        has_attachment=params.get("attachment") == "1",
        unread=params.get("unread") == "1",
        page=min(ctx.int_param("page") or 0, 200),
    )
    if query.folder_id:
        ctx.access.require_folder(ctx.db, query.folder_id)
    result = search_messages(ctx.db, ctx.access, query)
    contact_name = (
        ctx.db.scalar(select(Contact.name).where(Contact.id == query.contact_id))
        if query.contact_id
        else None
    )
    return ctx.render(
        "search.html",
        accounts=mailbox_tree(ctx.db, ctx.access),
        current_folder=None,
        query=query,
        result=result,
        contact_name=contact_name,
        params=dict(params),
    )


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None
