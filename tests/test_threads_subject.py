"""normalize_subject: reply and forward prefixes, counters, list tags, case."""

import unicodedata

import pytest

from mailservice.threads.subject import (
    MAX_NORMALIZED_LENGTH,
    is_generic_subject,
    is_reply_subject,
    normalize_subject,
)

CASES = [
    # subject as received, normalised, carries a reply/forward prefix
    ("Faktura 12/2026", "faktura 12/2026", False),
    ("Re: Faktura 12/2026", "faktura 12/2026", True),
    ("RE: FAKTURA 12/2026", "faktura 12/2026", True),
    ("re:Faktura 12/2026", "faktura 12/2026", True),
    ("RE[2]: Faktura 12/2026", "faktura 12/2026", True),
    ("Re(3): Faktura", "faktura", True),
    ("Re^2: Faktura", "faktura", True),
    ("Re : Facture 12", "facture 12", True),
    ("Re: Fwd: Re: Faktura", "faktura", True),
    ("Odp: Zamówienie", "zamówienie", True),
    ("ODP: Zamówienie", "zamówienie", True),
    ("Odpowiedź: Zamówienie", "zamówienie", True),
    ("ODPOWIEDŹ: Zamówienie", "zamówienie", True),
    ("PD: Umowa najmu", "umowa najmu", True),
    ("Pd: Odp: Umowa najmu", "umowa najmu", True),
    ("AW: Angebot Nr. 17", "angebot nr. 17", True),
    ("WG: AW: Angebot Nr. 17", "angebot nr. 17", True),
    ("Antw: Angebot", "angebot", True),
    ("Fwd: Oferta", "oferta", True),
    ("FW: Oferta", "oferta", True),
    ("Fw: Oferta", "oferta", True),
    ("SV: Tilbud", "tilbud", True),
    ("VS: Tarjous", "tarjous", True),
    ("TR: Devis", "devis", True),
    ("RIF: Preventivo", "preventivo", True),
    ("Re：Faktura", "faktura", True),  # full-width colon
    ("[firma-lista] Spotkanie", "spotkanie", False),
    ("Re: [firma-lista] Spotkanie", "spotkanie", True),
    ("[firma-lista] Re: Spotkanie", "spotkanie", True),
    ("[EXTERNAL] [firma-lista] Odp: Spotkanie", "spotkanie", True),
    ("Notatka (fwd)", "notatka", True),
    ("  Faktura \t  12/2026  ", "faktura 12/2026", False),
    ("Trasa: Kraków - Gdańsk", "trasa: kraków - gdańsk", False),
    ("Resume", "resume", False),
    ("Fwdx: nie prefiks", "fwdx: nie prefiks", False),
    ("Straße", "strasse", False),
    ("[tylko-tag]", "[tylko-tag]", False),
    ("Re:", "", True),
    ("", "", False),
    (None, "", False),
]


@pytest.mark.parametrize(("subject", "normalized", "reply"), CASES)
def test_normalize_subject(subject, normalized, reply):
    assert normalize_subject(subject) == normalized
    assert is_reply_subject(subject) is reply


def test_decomposed_polish_letters_normalise_like_composed_ones():
    composed = "Odpowiedź: Zażółć gęślą jaźń"
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed

    assert normalize_subject(decomposed) == normalize_subject(composed)
    assert is_reply_subject(decomposed)


def test_long_subject_fits_the_column():
    assert len(normalize_subject("Re: " + "x" * 2000)) == MAX_NORMALIZED_LENGTH


@pytest.mark.parametrize(
    ("normalized", "generic"),
    [("", True), ("ok", True), ("(no subject)", True), ("(brak tematu)", True),
     ("bez tematu", True), ("faktura 12/2026", False), ("pit", False)],
)
def test_placeholders_and_tiny_subjects_are_generic(normalized, generic):
    assert is_generic_subject(normalized) is generic
