"""Polish and English: every UI string translated, plurals and numbers by locale."""

from __future__ import annotations

from datetime import datetime, timezone

from mailservice.web.catalogs import extracted
from mailservice.web.i18n import formats, translations


# Words spelt the same in Polish.
SAME = {"E-mail", "Folder", "Problem"}


def test_every_ui_string_has_a_polish_translation():
    polish = translations("pl")
    missing = []
    for message in extracted():
        if not message.id:
            continue
        if message.pluralizable:
            singular, plural = message.id
            if polish.ngettext(singular, plural, 5) == plural:
                missing.append(singular)
        elif polish.gettext(message.id) == message.id and message.id not in SAME:
            missing.append(message.id)
    assert missing == []


def test_polish_plurals_have_three_forms():
    pl = formats("pl")
    said = [
        str(pl.ngettext("%(count)s message", "%(count)s messages", n, count=n))
        for n in (1, 2, 5, 22, 112)
    ]
    assert said == [
        "1 wiadomość",
        "2 wiadomości",
        "5 wiadomości",
        "22 wiadomości",
        "112 wiadomości",
    ]
    assert str(formats("en").ngettext("%(num)s byte", "%(num)s bytes", 1)) == "1 byte"


def test_numbers_sizes_and_dates_follow_the_locale():
    pl, en = formats("pl"), formats("en")
    assert pl.number(100000) == "100\xa0000" and en.number(100000) == "100,000"
    assert pl.size(3_500_000) == "3,3 MB" and en.size(3_500_000) == "3.3 MB"
    when = datetime(2026, 3, 5, 8, 30, tzinfo=timezone.utc)
    now = datetime(2026, 12, 3, tzinfo=timezone.utc)
    assert pl.when(when, now) == "5 mar" and en.when(when, now) == "5 Mar"
    assert pl.when(when, when) == "09:30"  # Warsaw time, 24-hour clock


def test_translated_text_escapes_values_from_mail():
    said = formats("en").gettext("%(name)s", name="<b>x</b>")
    assert str(said) == "&lt;b&gt;x&lt;/b&gt;"
