"""Finding every UI string and keeping the .po catalogs in step with them.

`python -m mailservice.web.catalogs` rewrites locale/*/LC_MESSAGES/messages.po
with every string found in the templates and the web code, keeping existing
translations; a test checks that Polish has no string left untranslated.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from mailservice.web.i18n import DOMAIN, LOCALE_DIR

HERE = Path(__file__).parent
METHODS = [("templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]
OPTIONS = {
    "templates/**.html": {
        "extensions": "jinja2.ext.i18n",
        "newstyle_gettext": "true",
        "trim_blocks": "true",
        "lstrip_blocks": "true",
    }
}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2)}


def extracted() -> Catalog:
    """Every translatable string in the web package, as a template catalog."""
    catalog = Catalog(domain=DOMAIN)
    for filename, lineno, message, comments, context in extract_from_dir(
        HERE, METHODS, options_map=OPTIONS, keywords=KEYWORDS
    ):
        catalog.add(message, locations=[(filename, lineno)])
    return catalog


def update(locale: str) -> Path:
    """Rewrite one locale's .po with the current strings, keeping translations."""
    path = LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=locale)
    else:
        catalog = Catalog(locale=locale, domain=DOMAIN)
    catalog.update(extracted(), no_fuzzy_matching=True)
    with path.open("wb") as handle:
        write_po(handle, catalog, width=88, omit_header=False, ignore_obsolete=True)
    return path


if __name__ == "__main__":
    for name in sys.argv[1:] or ["pl", "en"]:
        print(update(name))
