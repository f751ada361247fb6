"""Signatures per user and account, with an account default and their history.

Lookup order for a sender: the user's own signature on that account, else the
account's default, else the shipped default for the language (stored on first use
as the account default, so admins edit it like any other).
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailservice.errors import NotFoundError, TemplateValidationError
from mailservice.templating.fields import SAMPLE, build_context
from mailservice.templating.models import Signature, SignatureVersion
from mailservice.templating.rendering import render_signature
from mailservice.templating.validation import Problem, check_signature

log = logging.getLogger(__name__)

DEFAULTS_DIR = Path(__file__).resolve().parents[2] / "signatures"


def shipped_default(locale: str, directory: Path = DEFAULTS_DIR) -> tuple[str, str]:
    """(html, text) of the shipped default signature in `locale` (English fallback)."""
    for name in (locale, "en"):
        html = directory / f"default.{name}.html"
        if html.is_file():
            text = directory / f"default.{name}.txt"
            return html.read_text("utf-8"), text.read_text(
                "utf-8"
            ) if text.is_file() else ""
    raise NotFoundError(f"no shipped default signature in {directory}")


def _signature(
    session: Session, account_id: int, user_id: int | None
) -> Signature | None:
    owner = (
        Signature.user_id.is_(None) if user_id is None else Signature.user_id == user_id
    )
    return session.scalar(
        select(Signature).where(Signature.account_id == account_id, owner).limit(1)
    )


def _current(session: Session, signature_id: int) -> SignatureVersion | None:
    return session.scalar(
        select(SignatureVersion)
        .where(SignatureVersion.signature_id == signature_id)
        .order_by(SignatureVersion.number.desc())
        .limit(1)
    )


def signature_for(
    session: Session, account_id: int, user_id: int | None, locale: str = "pl"
) -> SignatureVersion:
    """The signature version a sender uses on an account (user's, else default)."""
    if user_id is not None:
        own = _signature(session, account_id, user_id)
        if own is not None and (version := _current(session, own.id)) is not None:
            return version
    default = _signature(session, account_id, None)
    if default is not None and (version := _current(session, default.id)) is not None:
        return version
    html, text = shipped_default(locale)
    return save_signature_version(
        session, account_id, None, html, text, None, note="shipped default"
    )


def save_signature_version(
    session: Session,
    account_id: int,
    user_id: int | None,
    html: str,
    text: str,
    author_user_id: int | None,
    note: str | None = None,
) -> SignatureVersion:
    """Validate and store a new current signature of a user or the account."""
    problems = check_signature(html, text)
    if problems:
        raise TemplateValidationError(problems)

    signature = _signature(session, account_id, user_id)
    if signature is None:
        signature = Signature(account_id=account_id, user_id=user_id)
        session.add(signature)
        session.flush()
    number = session.scalar(
        select(func.max(SignatureVersion.number)).where(
            SignatureVersion.signature_id == signature.id
        )
    )
    version = SignatureVersion(
        signature_id=signature.id,
        number=(number or 0) + 1,
        html_source=html,
        text_source=text,
        author_user_id=author_user_id,
        note=note,
    )
    session.add(version)
    session.flush()
    log.info(
        "signature account=%s user=%s saved as version %s",
        account_id,
        user_id,
        version.number,
    )
    return version


def signature_versions(session: Session, signature_id: int) -> list[SignatureVersion]:
    """The history of a signature, newest first."""
    return list(
        session.scalars(
            select(SignatureVersion)
            .where(SignatureVersion.signature_id == signature_id)
            .order_by(SignatureVersion.number.desc())
        )
    )


def revert_signature(
    session: Session, version_id: int, author_user_id: int | None
) -> SignatureVersion:
    """Make an old signature version current again, as a new version."""
    old = session.get(SignatureVersion, version_id)
    if old is None:
        raise NotFoundError(f"no signature version {version_id}")
    signature = session.get(Signature, old.signature_id)
    return save_signature_version(
        session,
        signature.account_id,
        signature.user_id,
        old.html_source,
        old.text_source,
        author_user_id,
        note=f"revert to version {old.number}",
    )


def render_signature_preview(html: str, text: str) -> tuple[str, str] | list[Problem]:
    """(html, text) of an unsaved signature on sample data, or its problems."""
    problems = check_signature(html, text)
    if problems:
        return problems
    return render_signature(html, text, build_context(**SAMPLE))


def render_signature_version(
    version: SignatureVersion, context: dict
) -> tuple[str, str]:
    """(html, text) of a stored signature version with real fields."""
    return render_signature(
        version.html_source, version.text_source, context, version.id
    )
