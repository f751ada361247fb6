"""Templates in the database: shipped defaults loaded on first use, versions, revert.

Workers always read the newest version row, and compiled templates are cached by
version id, so an admin's save reaches every worker on every machine at its next
message without any signal between processes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailservice.errors import NotFoundError, TemplateError, TemplateValidationError
from mailservice.templating.fields import SAMPLE, build_context
from mailservice.templating.models import MessageTemplate, TemplateVersion
from mailservice.templating.rendering import render_body, render_subject
from mailservice.templating.validation import Problem, check_template

log = logging.getLogger(__name__)

DEFAULTS_DIR = Path(__file__).resolve().parents[2] / "templates"


@dataclass
class Rendered:
    """A rendered message template: subject, HTML and the generated text."""

    subject: str
    html: str
    text: str
    version_id: int | None = None


@dataclass
class Preview:
    """What the admin page shows: the rendering on sample data, or the problems."""

    rendered: Rendered | None
    problems: list[Problem]


def read_default_file(path: Path) -> tuple[str, str, str]:
    """(title, subject, html) of a shipped template file: a header, `---`, the body."""
    head, separator, body = path.read_text(encoding="utf-8").partition("\n---\n")
    if not separator:
        raise TemplateError(f"{path}: missing the '---' line between header and body")
    fields = dict(line.split(":", 1) for line in head.splitlines() if ":" in line)
    if "subject" not in fields:
        raise TemplateError(f"{path}: the header has no 'subject:' line")
    return fields.get("title", path.stem).strip(), fields["subject"].strip(), body


def load_defaults(session: Session, directory: Path = DEFAULTS_DIR) -> int:
    """Add each shipped template not yet in the database (as version 1); how many."""
    added = 0
    for path in sorted(directory.glob("*.*.html")):
        name, locale = path.name.split(".")[:2]
        exists = session.scalar(
            select(MessageTemplate.id).where(
                MessageTemplate.name == name, MessageTemplate.locale == locale
            )
        )
        if exists is None:
            title, subject, html = read_default_file(path)
            _create(session, name, locale, title, subject, html)
            added += 1
    if added:
        log.info("loaded %d shipped templates from %s", added, directory)
    return added


def _create(session, name, locale, title, subject, html) -> MessageTemplate:
    template = MessageTemplate(name=name, locale=locale, title=title)
    session.add(template)
    session.flush()
    session.add(
        TemplateVersion(
            template_id=template.id,
            number=1,
            subject_source=subject,
            html_source=html,
            note="shipped default",
        )
    )
    session.flush()
    return template


def list_templates(
    session: Session, locale: str | None = None
) -> list[MessageTemplate]:
    """The templates to pick from, by name; shipped defaults are loaded first."""
    load_defaults(session)
    query = select(MessageTemplate).order_by(
        MessageTemplate.name, MessageTemplate.locale
    )
    if locale:
        query = query.where(MessageTemplate.locale == locale)
    return list(session.scalars(query))


def get_template(session: Session, name: str, locale: str) -> MessageTemplate:
    """The template `name` in `locale`, or a NotFoundError naming both."""
    load_defaults(session)
    template = session.scalar(
        select(MessageTemplate).where(
            MessageTemplate.name == name, MessageTemplate.locale == locale
        )
    )
    if template is None:
        raise NotFoundError(f"no message template {name!r} in language {locale!r}")
    return template


def current_version(session: Session, template_id: int) -> TemplateVersion:
    """The newest version of a template: the one every worker uses."""
    version = session.scalar(
        select(TemplateVersion)
        .where(TemplateVersion.template_id == template_id)
        .order_by(TemplateVersion.number.desc())
        .limit(1)
    )
    if version is None:
        raise NotFoundError(f"template {template_id} has no version")
    return version


def versions(session: Session, template_id: int) -> list[TemplateVersion]:
    """The history of a template, newest first, with who saved each and when."""
    return list(
        session.scalars(
            select(TemplateVersion)
            .where(TemplateVersion.template_id == template_id)
            .order_by(TemplateVersion.number.desc())
        )
    )


def save_template_version(
    session: Session,
    template_id: int,
    subject: str,
    html: str,
    author_user_id: int | None,
    note: str | None = None,
) -> TemplateVersion:
    """Validate an edit and store it as the new current version; problems raise."""
    problems = check_template(subject, html)
    if problems:
        raise TemplateValidationError(problems)

    number = session.scalar(
        select(func.max(TemplateVersion.number)).where(
            TemplateVersion.template_id == template_id
        )
    )
    version = TemplateVersion(
        template_id=template_id,
        number=(number or 0) + 1,
        subject_source=subject,
        html_source=html,
        author_user_id=author_user_id,
        note=note,
    )
    session.add(version)
    session.flush()
    log.info(
        "template %s saved as version %s by user %s",
        template_id,
        version.number,
        author_user_id,
    )
    return version


def revert_template(
    session: Session, template_id: int, version_id: int, author_user_id: int | None
) -> TemplateVersion:
    """Make an old version current again, as a new version (history is kept)."""
    old = session.get(TemplateVersion, version_id)
    if old is None or old.template_id != template_id:
        raise NotFoundError(f"template {template_id} has no version id {version_id}")
    return save_template_version(
        session,
        template_id,
        old.subject_source,
        old.html_source,
        author_user_id,
        note=f"revert to version {old.number}",
    )


def render_template_preview(subject: str, html: str) -> Preview:
    """A live preview of unsaved sources on sample data, or the problems found."""
    problems = check_template(subject, html)
    if problems:
        return Preview(None, problems)
    context = build_context(**SAMPLE)
    body_html, body_text = render_body(html, context)
    return Preview(Rendered(render_subject(subject, context), body_html, body_text), [])


def render_template(session: Session, template_id: int, context: dict) -> Rendered:
    """Render the current version of a template with real fields."""
    version = current_version(session, template_id)
    subject = render_subject(version.subject_source, context, version.id)
    html, text = render_body(version.html_source, context, version.id)
    return Rendered(subject, html, text, version.id)
