"""The README's picture of the inbox: `python -m tests.web.screenshot docs/inbox.png`.

Builds a small company mailbox in a temporary SQLite database, serves the inbox,
and lets Debian's Chromium photograph the thread list as a staff member sees it.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from mailservice.config import Settings
from mailservice.db.migrate import upgrade_database
from mailservice.db.session import session_factory
from mailservice.users.service import add_user, grant_account
from tests.web.browser import browser_page, live_server, log_in
from tests.web.builders import MailBuilder
from tests.web.conftest import PASSWORD

THREADS = [
    (
        "Zamówienie 17/11/2026 – płyty OSB",
        ("Jan Nowak", "jan.nowak@budmat.test"),
        "Budmat Sp. z o.o.",
        "Dzień dobry, proszę o potwierdzenie terminu dostawy "
        "płyt OSB 18 mm (120 szt.) na budowę przy ul. Polnej.",
        True,
        3,
    ),
    (
        "Faktura FS/2026/11/482 – korekta",
        ("Anna Wiśniewska", "ksiegowosc@drewpol.test"),
        "Drewpol S.A.",
        "W załączeniu korekta faktury; prosimy o podpis i odesłanie.",
        True,
        2,
    ),
    (
        "Re: Oferta na grudzień",
        ("Piotr Zieliński", "p.zielinski@stalbud.test"),
        "Stalbud s.c.",
        "Dziękuję za ofertę. Czy rabat 7% obejmuje też transport?",
        False,
        4,
    ),
    (
        "Reklamacja – uszkodzone palety",
        ("Katarzyna Lewandowska", "kasia@hurtex.test"),
        None,
        "Dwie palety dotarły uszkodzone, zdjęcia w załączeniu.",
        True,
        1,
    ),
    (
        "Potwierdzenie salda na 30.11.2026",
        ("Biuro rachunkowe Saldo", "biuro@saldo.test"),
        "Saldo Biuro Rachunkowe",
        "Prosimy o potwierdzenie salda do 10 grudnia.",
        True,
        1,
    ),
    (
        "Spotkanie w sprawie umowy ramowej",
        ("Tomasz Wójcik", "t.wojcik@budmat.test"),
        "Budmat Sp. z o.o.",
        "Proponuję czwartek o 10:00 w Państwa biurze.",
        False,
        2,
    ),
    (
        "Cennik 2027 – nowe stawki transportu",
        ("Logistyka Trans-Pol", "cennik@transpol.test"),
        "Trans-Pol",
        "Od stycznia obowiązują nowe stawki.",
        True,
        1,
    ),
    (
        "Pytanie o dostępność cementu CEM II",
        ("Marek Kamiński", "marek.k@poczta.test"),
        None,
        "Czy mają Państwo na stanie 40 worków cementu CEM II 42,5?",
        False,
        1,
    ),
]


def build(settings: Settings) -> int:
    """The sample mailbox; returns the inbox folder id."""
    session = session_factory(settings.effective_database_url)()
    make = MailBuilder(session, settings)
    make.account("biuro")
    contacts = {}
    for subject, sender, company, text, attached, count in THREADS:
        if company and company not in contacts:
            contacts[company] = make.contact(company, sender[1])
        thread = make.thread(subject)
        for number in range(count):
            make.message(
                "biuro/inbox",
                thread,
                sender=sender,
                text=text,
                seen=number < count - 1 or subject.startswith("Re"),
                contact=contacts.get(company),
                attachments=[("zamówienie.pdf", "application/pdf", b"%PDF")]
                if attached and number == 0
                else [],
            )
    staff = add_user(session, "ola@firma.test", PASSWORD, name="Ola Kowalczyk")
    grant_account(
        session, staff, session.get(type(make.folders["biuro/inbox"].account), 1)
    )
    session.commit()
    folder = make.folders["biuro/inbox"].id
    session.close()
    return folder


def main(target: str) -> None:
    """Write the screenshot to `target`."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/inbox.db"
        upgrade_database(url)
        settings = Settings(data_dir=Path(folder) / "data", database_url=url)
        inbox = build(settings)
        with live_server(settings) as base, browser_page(base) as (page, _watch):
            log_in(page, "ola@firma.test", PASSWORD)
            page.goto(f"/folders/{inbox}")
            page.set_viewport_size({"width": 1280, "height": 560})
            page.screenshot(path=target)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs/inbox.png")
