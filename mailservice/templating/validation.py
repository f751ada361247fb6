"""Checking a template edit before it is saved: syntax, unknown fields, a sample render.

Each problem carries the part (subject, body...) and the line it is on, so the
admin page can point at it.
"""

from __future__ import annotations

from dataclasses import dataclass

from jinja2 import TemplateError as JinjaError
from jinja2 import TemplateSyntaxError, nodes

from mailservice.templating.fields import FIELDS, SAMPLE, build_context
from mailservice.templating.rendering import HTML_ENV, TEXT_ENV, template_line


@dataclass(frozen=True)
class Problem:
    """One error in a template source, found at `line` of `part`."""

    part: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f" line {self.line}" if self.line else ""
        return f"{self.part}{where}: {self.message}"


def check_source(source: str, *, part: str, html: bool) -> list[Problem]:
    """Every problem of one source: syntax first, then unknown fields, then a render."""
    env = HTML_ENV if html else TEXT_ENV
    try:
        tree = env.parse(source)
    except TemplateSyntaxError as exc:
        return [Problem(part, exc.lineno, exc.message or "syntax error")]

    problems = _unknown_fields(tree, part)
    if problems:
        return problems
    return _sample_render(env, source, part)


def _unknown_fields(tree: nodes.Template, part: str) -> list[Problem]:
    assigned = {
        target.name
        for target in tree.find_all(nodes.Name)
        if target.ctx in ("store", "param")
    }
    problems = []
    for name in tree.find_all(nodes.Name):
        if name.ctx != "load" or name.name in assigned:
            continue
        if name.name not in FIELDS:
            known = ", ".join(FIELDS)
            problems.append(
                Problem(
                    part, name.lineno, f"unknown field {name.name!r} (known: {known})"
                )
            )
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        problem = _unknown_attribute(node, part, assigned)
        if problem:
            problems.append(problem)
    return sorted(problems, key=lambda problem: problem.line or 0)


def _unknown_attribute(node, part: str, assigned: set[str]) -> Problem | None:
    if not isinstance(node.node, nodes.Name) or node.node.name in assigned:
        return None
    owner = node.node.name
    if owner not in FIELDS:
        return None
    if isinstance(node, nodes.Getattr):
        attr = node.attr
    elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
        attr = node.arg.value
    else:
        return None
    if attr in FIELDS[owner]:
        return None
    known = ", ".join(FIELDS[owner])
    return Problem(part, node.lineno, f"unknown field {owner}.{attr} (known: {known})")


def _sample_render(env, source: str, part: str) -> list[Problem]:
    # What the tree walk cannot see (a filter on the wrong type, a sandbox
    # refusal) shows when rendering on sample data.
    try:
        env.from_string(source).render(build_context(**SAMPLE))
    except JinjaError as exc:
        return [Problem(part, template_line(exc), exc.message or str(exc))]
    except (TypeError, ValueError, ArithmeticError) as exc:
        return [Problem(part, template_line(exc), str(exc))]
    return []


def check_template(subject: str, html: str) -> list[Problem]:
    """Problems of a message template (subject and HTML body)."""
    return check_source(subject, part="subject", html=False) + check_source(
        html, part="body", html=True
    )


def check_signature(html: str, text: str) -> list[Problem]:
    """Problems of a signature (HTML and text forms)."""
    return check_source(html, part="signature HTML", html=True) + check_source(
        text, part="signature text", html=False
    )
