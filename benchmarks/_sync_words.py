"""Words for the sync benchmark's mailbox: Polish names, subjects and body text.

Bodies are drawn from a pool of paragraphs made once per mailbox, so that making
20,000 messages costs seconds, not minutes, and every message still differs.
"""

from __future__ import annotations

import random

COMPANY_STEMS = (
    "Budmat Stalprofil Translog Hydroserwis Elektrobud Agromax Drewpol Kamex "
    "Polbruk Termoplast Ceramika-Łęczna Żelbet Mostostal-Gród Gazotech Instalbud "
    "Tartak-Świerk Farbex Betoniarnia-Kruk Dachpol Okna-Łódź Ogrodnik Metalzbyt "
    "Śrubex Chemstal Wodkan Ekotrans Kabelnet Pakpol Świetlik Zbrojbud Glazurex "
    "Armatex Izolbud Cementownia-Wiślana Laskpol Łukstal Marmur-Dąb Pilzno-Drew "
    "Blachotrapez Rurex Spawmet Szkłopol Tynkbud Wentylex Źródło-Woda Żuraw-Dźwig "
    "Gipsmat Kotłownia-Jaź Malbud Posadzkex Rusztpol Sklejka-Mazury Tekpol "
    "Uszczelnex Wiórpol Zaprawex Łącznik Ściernik Ćwiek-Gwóźdź"
).split()
COMPANY_FORMS = ("Sp. z o.o.", "S.A.", "s.c.", "Sp. j.", "Sp. k.")
ROMAN = ("", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X")
FIRST_NAMES = (
    "Anna Katarzyna Małgorzata Agnieszka Barbara Ewa Elżbieta Zofia Joanna Łucja "
    "Jan Andrzej Piotr Krzysztof Stanisław Tomasz Paweł Józef Marcin Łukasz "
    "Grzegorz Michał Zbigniew Jerzy Wojciech Bożena Jolanta Ryszard Żaneta Dorota"
).split()
LAST_NAMES = (
    "Nowak Kowalski Wiśniewski Wójcik Kowalczyk Kamiński Lewandowski Zieliński "
    "Szymański Woźniak Dąbrowski Kozłowski Jankowski Mazur Kwiatkowski Krawczyk "
    "Piotrowski Grabowski Nowakowski Pawłowski Michalski Król Wieczorek Jabłoński "
    "Wróbel Majewski Olszewski Stępień Jaworski Malinowski Górski Rutkowski Sikora "
    "Baran Duda Szewczyk Tomaszewski Pietrzak Marciniak Zając Żak Łuczak Ćwikła"
).split()
POSITIONS = ("kierownik zaopatrzenia", "główna księgowa", "specjalista ds. zakupów",
             "właściciel", "dyspozytor", "handlowiec", "prezes zarządu")
STAFF = ("Anna Nowak – Hurtownia", "Piotr Zieliński", "Biuro Hurtowni Bench",
         "Małgorzata Wójcik (księgowość)")
FREE_MAIL = ("gmail.com", "wp.pl", "onet.pl", "o2.pl", "interia.pl", "op.pl")
NEWSLETTERS = ("Targi Budownictwa Poznań", "Portal Hurtowni", "Gazeta Budowlana",
               "Szkolenia BHP Śląsk", "Leasing dla Firm")
TOPICS = (
    "Zamówienie nr {n}/{y} – potwierdzenie", "Faktura VAT FV/{y}/{n}",
    "Faktura korygująca nr {n}/{y}", "Zapytanie ofertowe: płyty gipsowe ({n} szt.)",
    "Reklamacja dostawy z dnia {n}", "Oferta współpracy na {y} rok",
    "Umowa ramowa – poprawki do §{n}", "Potwierdzenie płatności za zamówienie {n}",
    "Harmonogram dostaw na przyszły tydzień", "Spotkanie w środę o 10:00",
    "Prośba o korektę faktury {n}", "Cennik obowiązujący od 1 stycznia {y}",
    "Awizacja dostawy – rampa nr {n}", "Zwrot palet EUR ({n} szt.)",
    "Termin płatności – przypomnienie", "Dokumenty WZ do zamówienia {n}",
    "Świadectwa jakości stali – partia {n}", "Zmiana godzin pracy magazynu",
    "Pytanie o dostępność towaru (kod {n})", "Odbiór osobisty – żółte dźwigary",
)
REPLY_PREFIXES = ("Re: ", "Re: ", "Odp: ", "RE: ", "Odp: Re: ", "AW: ", "Re: Re: ")
NEWSLETTER_SUBJECTS = (
    "Zaproszenie na Targi Budownictwa {y}", "Nowości w ofercie – tydzień promocji",
    "Przegląd rynku stali: ceny w {y}", "Szkolenie BHP dla magazynierów – zapisy",
    "Leasing maszyn budowlanych: oferta specjalna",
)
MAILERS = ("Microsoft Outlook 16.0", "Mozilla Thunderbird 115.8.1",
           "Roundcube Webmail/1.6.5", "Apple Mail (2.3731)", "Poczta WP")
ATTACHMENTS = (
    ("Faktura_FV_{n}_2025.pdf", "application/pdf"),
    ("Zamówienie_{n}.pdf", "application/pdf"),
    ("Cennik_hurtowy_{n}.xlsx",
     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("zdjęcie_uszkodzenia_{n}.jpg", "image/jpeg"),
    ("Umowa_ramowa_wersja_{n}.docx",
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("Świadectwo_jakości_{n}.pdf", "application/pdf"),
)
VOCABULARY = (
    "dzień dobry uprzejmie proszę o przesłanie potwierdzenia zamówienia towar "
    "został wysłany wczoraj kurierem faktura do zapłaty termin płatności wynosi "
    "dni od daty wystawienia w załączeniu przesyłam dokumenty dotyczące dostawy "
    "palet płyt gipsowych cementu zaprawy stali zbrojeniowej prętów dźwigarów "
    "reklamacja uszkodzonego towaru prosimy o pilny kontakt telefoniczny ze "
    "względu na opóźnienie transportu magazyn będzie czynny do godziny w sobotę "
    "zgodnie z ustaleniami przesyłamy korektę cena netto brutto rabat handlowy "
    "wartość zamówienia przekracza limit kredytowy należność została uregulowana "
    "przelewem na rachunek bankowy podany na fakturze serdecznie pozdrawiam "
    "z poważaniem łączę pozdrowienia dziękujemy za szybką odpowiedź kierowca "
    "przyjedzie między ósmą a dziesiątą rano żółta ciężarówka źle oznaczone "
    "paczki świadectwo jakości atest producenta numer partii ilość sztuk "
    "metrów kwadratowych ton według specyfikacji w tabeli poniżej więcej szczegółów"
).split()


def person_name(rng: random.Random) -> str:
    """A Polish first and last name, the surname in the woman's form for women."""
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    if first.endswith("a") and last.endswith(("ski", "cki")):
        last = last[:-1] + "a"
    return f"{first} {last}"


def ascii_fold(text: str) -> str:
    """Polish letters to plain ASCII, as people write them in e-mail addresses."""
    return text.translate(_FOLD)


_FOLD = str.maketrans("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ", "acelnoszzACELNOSZZ")


class Pools:
    """Paragraphs of Polish text and of HTML, drawn from to fill message bodies."""

    def __init__(self, rng: random.Random, size: int = 400) -> None:
        self.paragraphs = [_paragraph(rng) for _ in range(size)]
        self.html_paragraphs = [_html(p) for p in self.paragraphs]

    def text(self, rng: random.Random, size: int) -> str:
        """Plain text of about `size` bytes, in lines under 78 characters."""
        return _fill(rng, self.paragraphs, size)

    def html(self, rng: random.Random, size: int) -> str:
        """An HTML document of about `size` bytes, styled the way mailers do."""
        inner = _fill(rng, self.html_paragraphs, size)
        return (
            '<!DOCTYPE html>\n<html><head><meta charset="utf-8">\n'
            "<style>p{font-family:Calibri,sans-serif;font-size:11pt}</style>\n"
            f"</head><body>\n{inner}</body></html>\n"
        )


def _fill(rng: random.Random, pool: list[str], size: int) -> str:
    out: list[str] = []
    length = 0
    while length < size:
        paragraph = rng.choice(pool)
        out.append(paragraph)
        length += len(paragraph) + 1
    return "\n".join(out)


def _paragraph(rng: random.Random) -> str:
    sentence_words = rng.choices(VOCABULARY, k=rng.randrange(25, 90))
    sentence_words[0] = sentence_words[0].capitalize()
    lines, line = [], ""
    for word in sentence_words:
        if len(line) + len(word) + 1 > 76:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line + ".")
    return "\n".join(lines) + "\n"


def _html(paragraph: str) -> str:
    return '<p class="MsoNormal">' + paragraph.replace("\n", " ").strip() + "</p>\n"
