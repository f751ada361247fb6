"""Polish and English for the web inbox: gettext catalogs and Babel formats.

Catalogs are the .po files under locale/; they are compiled in memory when first
used, so a clean clone needs no build step for translations.
"""

from __future__ import annotations

import io
import logging
from datetime import date, datetime, timezone
from functools import lru_cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_datetime, format_time, get_timezone
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations
from markupsafe import Markup

log = logging.getLogger(__name__)

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
DEFAULT_LOCALE = "pl"
TIME_ZONE = get_timezone("Europe/Warsaw")


def _(message: str) -> str:
    """Marks a string for the catalogs; translated later, per user."""
    return message


# How folders with a known role are called, whatever the server names them.
ROLE_NAMES = {
    "inbox": _("Inbox"),
    "sent": _("Sent"),
    "drafts": _("Drafts"),
    "archive": _("Archive"),
    "junk": _("Junk"),
    "trash": _("Trash"),
}


@lru_cache(maxsize=4)
def translations(locale: str) -> Translations:
    """The compiled catalog of a locale (read from its .po file once per process)."""
    path = LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as po:
        catalog = read_po(po, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    log.debug("catalog %s compiled: %d messages", locale, len(catalog))
    return Translations(buffer, domain=DOMAIN)


class Formats:
    """Translation and formatting for one user's language, as templates use them."""

    def __init__(self, locale: str) -> None:
        self.locale = locale
        self.babel_locale = Locale.parse(locale)
        self._translations = translations(locale)
        self._short_date = self.babel_locale.date_formats["short"].pattern
        self._role_names = {
            role: self._translations.gettext(name) for role, name in ROLE_NAMES.items()
        }

    def gettext(self, message: str, **variables) -> Markup:
        """A translated string; variables are escaped into it (Jinja newstyle)."""
        text = Markup(self._translations.gettext(message))
        return text % variables if variables else text

    def folder_label(self, folder) -> str:
        """A folder's name for people: its role's name in this language, or its own."""
        return self._role_names.get(folder.role or "") or folder.name

    def plain(self, message: str) -> str:
        """The translation of a domain error's text, as plain (to be escaped) text.

        Errors carry English text that may hold what a user typed; translated
        when the catalog knows the sentence, and never marked safe.
        """
        return self._translations.gettext(message)

    def ngettext(self, singular: str, plural: str, num: int, **variables) -> Markup:
        """The plural form for `num` (Polish has three); `num` is a variable too."""
        text = Markup(self._translations.ngettext(singular, plural, num))
        variables.setdefault("num", self.number(num))
        return text % variables

    def number(self, value: int | float) -> str:
        """A number grouped by the locale: 100 000 in Polish, 100,000 in English."""
        return format_decimal(value, locale=self.babel_locale)

    def size(self, value: int) -> str:
        """A byte count as people read it: 12 KB, 3,4 MB."""
        for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
            if value >= scale:
                amount = format_decimal(
                    round(value / scale, 1), locale=self.babel_locale
                )
                return f"{amount} {unit}"
        return self.ngettext("%(num)s byte", "%(num)s bytes", value)

    def when(self, value: datetime | None, now: datetime | None = None) -> str:
        """A short date for lists: the time today, day and month this year."""
        if value is None:
            return ""
        now = now or datetime.now(timezone.utc)
        local, today = value.astimezone(TIME_ZONE), now.astimezone(TIME_ZONE)
        if local.date() == today.date():
            return self._time(local.hour, local.minute)
        return self._date(local.date(), local.year == today.year)

    @lru_cache(maxsize=4096)
    def _time(self, hour: int, minute: int) -> str:
        # Cached: Babel builds its formatter anew on every call (~50 us), and a
        # list page shows 50 dates.
        moment = datetime(2000, 1, 1, hour, minute)
        return format_time(moment, "short", locale=self.babel_locale)

    @lru_cache(maxsize=4096)
    def _date(self, day: date, this_year: bool) -> str:
        pattern = "d MMM" if this_year else self._short_date
        return format_date(day, pattern, locale=self.babel_locale)

    def full(self, value: datetime | None) -> str:
        """Date and time in full, for a message header."""
        if value is None:
            return ""
        return format_datetime(
            value, "medium", tzinfo=TIME_ZONE, locale=self.babel_locale
        )


@lru_cache(maxsize=4)
def formats(locale: str) -> Formats:
    """The shared Formats of a locale."""
    return Formats(locale)
