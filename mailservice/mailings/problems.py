"""What stands in the way before sending: bad templates, and recipients that
cannot get the message (no usable address, bouncing, unsubscribed, no file).

Nothing is skipped silently: the same list is shown before sending, and when
the mailing starts the blocking ones are marked skipped with their reason, so
the report names them too. Soft bounces and missing document fields are
warnings: the message still goes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass

from jinja2 import TemplateSyntaxError, nodes
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from mailservice.contacts.models import Contact
from mailservice.mailings.files import FileIndex
from mailservice.mailings.models import (
    BOUNCING,
    MARKETING,
    NO_FILE,
    PENDING,
    SKIPPED,
    UNSUBSCRIBED,
    Mailing,
    MailingRecipient,
    SuppressedAddress,
)
from mailservice.outbound.bounces import HARD
from mailservice.outbound.models import BouncingAddress
from mailservice.templating.rendering import HTML_ENV
from mailservice.templating.validation import Problem, check_source

log = logging.getLogger(__name__)

BATCH = 500
EXPLAINED = {
    "no_address": "the contact has no e-mail address the mailing's address rule picks",
    "bad_address": "the address is not a valid e-mail address",
    "bouncing": "the address bounced hard before",
    "unsubscribed": "the address unsubscribed from marketing mail",
    "no_file": "no file matches this recipient",
}


@dataclass
class RecipientProblem:
    """Why one recipient cannot get the message, or may get it incomplete."""

    position: int
    name: str | None
    address: str | None
    problem: str
    detail: str
    blocking: bool = True


def template_problems(mailing: Mailing) -> list[Problem]:
    """Errors in the mailing's subject, body, document and file name templates."""
    problems = check_source(mailing.subject_source, part="subject", html=False)
    problems += check_source(mailing.body_source, part="body", html=True)
    if mailing.document_source:
        problems += check_source(mailing.document_source, part="document", html=True)
        problems += check_source(
            mailing.document_filename or "", part="file name", html=False
        )
    return problems


def used_document_fields(mailing: Mailing) -> set[str]:
    """The document fields ({{ document.total }}...) the mailing's templates use."""
    used: set[str] = set()
    sources = (
        mailing.subject_source,
        mailing.body_source,
        mailing.document_source,
        mailing.document_filename,
    )
    for source in sources:
        try:
            tree = HTML_ENV.parse(source or "")
        except TemplateSyntaxError:
            continue  # reported by template_problems
        for node in tree.find_all(nodes.Getattr):
            if isinstance(node.node, nodes.Name) and node.node.name == "document":
                used.add(node.attr)
    return used


def recipient_problems(
    session: Session, mailing: Mailing
) -> Iterator[RecipientProblem]:
    """Every problem of the mailing's waiting recipients, in list order."""
    index = FileIndex(session, mailing) if mailing.files_required else None
    wanted = used_document_fields(mailing)
    last = 0
    while True:
        batch = list(
            session.scalars(
                select(MailingRecipient)
                .where(
                    MailingRecipient.mailing_id == mailing.id,
                    MailingRecipient.state.in_((PENDING, SKIPPED)),
                    MailingRecipient.position > last,
                )
                .order_by(MailingRecipient.position)
                .limit(BATCH)
            )
        )
        if not batch:
            return
        yield from _batch_problems(session, mailing, batch, index, wanted)
        last = batch[-1].position


def _batch_problems(
    session, mailing, batch, index, wanted
) -> Iterator[RecipientProblem]:
    lowered = [r.address.lower() for r in batch if r.address]
    bounces = (
        dict(
            session.execute(
                select(BouncingAddress.address_norm, BouncingAddress.kind).where(
                    BouncingAddress.address_norm.in_(lowered)
                )
            ).all()
        )
        if lowered
        else {}
    )
    suppressed = set()
    if mailing.kind == MARKETING:
        suppressed = set(
            session.scalars(
                select(SuppressedAddress.address_norm).where(
                    SuppressedAddress.address_norm.in_(
                        [r.address_norm for r in batch if r.address_norm]
                    )
                )
            )
        )
    nips = _nips(session, batch) if index else {}

    for recipient in batch:
        found = _problem_of(recipient, bounces, suppressed, index, nips)
        if found:
            yield found
        elif wanted:
            missing = sorted(wanted - set(json.loads(recipient.fields or "{}")))
            if missing:
                yield _make(
                    recipient,
                    "no_fields",
                    "no value for the document field(s) " + ", ".join(missing),
                    blocking=False,
                )


def _problem_of(recipient, bounces, suppressed, index, nips) -> RecipientProblem | None:
    if recipient.problem and recipient.problem in EXPLAINED:
        return _make(recipient, recipient.problem, EXPLAINED[recipient.problem])
    kind = bounces.get(recipient.address.lower()) if recipient.address else None
    if kind == HARD:
        return _make(recipient, BOUNCING, EXPLAINED[BOUNCING])
    if recipient.address_norm in suppressed:
        return _make(recipient, UNSUBSCRIBED, EXPLAINED[UNSUBSCRIBED])
    if index is not None and not index.match(recipient, nips.get(recipient.contact_id)):
        return _make(recipient, NO_FILE, EXPLAINED[NO_FILE])
    if kind is not None:
        return _make(
            recipient,
            "soft_bounce",
            "the address bounced softly before "
            "(a full mailbox, a server down); it is tried again",
            blocking=False,
        )
    return None


def _make(recipient, problem: str, detail: str, blocking: bool = True):
    return RecipientProblem(
        recipient.position, recipient.name, recipient.address, problem, detail, blocking
    )


def _nips(session: Session, batch) -> dict[int, str | None]:
    ids = [r.contact_id for r in batch if r.contact_id is not None]
    if not ids:
        return {}
    query = select(Contact.id, Contact.nip).where(Contact.id.in_(ids))
    return dict(session.execute(query).all())


def skip_blocked(session: Session, mailing: Mailing) -> int:
    """Mark every blocked waiting recipient skipped, with its reason; how many."""
    blocked = [p for p in recipient_problems(session, mailing) if p.blocking]
    for start in range(0, len(blocked), BATCH):
        for problem in blocked[start : start + BATCH]:
            session.execute(
                update(MailingRecipient)
                .where(
                    MailingRecipient.mailing_id == mailing.id,
                    MailingRecipient.position == problem.position,
                )
                .values(state=SKIPPED, problem=problem.problem, error=problem.detail)
                .execution_options(synchronize_session=False)
            )
    if blocked:
        log.info(
            "mailing=%s skipped %d recipients with problems", mailing.id, len(blocked)
        )
    return len(blocked)


def count_problems(session: Session, mailing: Mailing) -> tuple[int, int]:
    """(blocking, warnings) among the waiting recipients."""
    blocking = warnings = 0
    for problem in recipient_problems(session, mailing):
        if problem.blocking:
            blocking += 1
        else:
            warnings += 1
    return blocking, warnings


def skipped_count(session: Session, mailing_id: int) -> int:
    """How many recipients were skipped for a problem."""
    return (
        session.scalar(
            select(func.count()).where(
                MailingRecipient.mailing_id == mailing_id,
                MailingRecipient.state == SKIPPED,
            )
        )
        or 0
    )


def skipped_problems(
    session: Session, mailing_id: int, limit: int
) -> list[RecipientProblem]:
    """The recipients a started mailing skipped, with the reason noted at start."""
    rows = session.scalars(
        select(MailingRecipient)
        .where(
            MailingRecipient.mailing_id == mailing_id,
            MailingRecipient.state == SKIPPED,
        )
        .order_by(MailingRecipient.position)
        .limit(limit)
    )
    return [_make(row, row.problem or "", row.error or "") for row in rows]
