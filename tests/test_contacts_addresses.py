"""The one normal form of addresses, and the checks on what people type."""

import pytest

from mailservice.contacts.addresses import (
    domain_of,
    is_valid_address,
    is_valid_domain,
    normalize_address,
)
from mailservice.contacts.validation import (
    parse_addresses,
    parse_domains,
    parse_nip,
    parse_postal_code,
)
from mailservice.errors import ContactError, InvalidNipError


@pytest.mark.parametrize(
    "written, norm",
    [
        ("jan+faktury@Firma.PL", "jan@firma.pl"),
        ("  <Jan.Kowalski@FIRMA.pl>  ", "jan.kowalski@firma.pl"),
        ("biuro@firma.pl.", "biuro@firma.pl"),
        ("anna@XN--W-UGA1V8H.pl", "anna@żółw.pl"),
        ("anna@ŻÓŁW.PL", "anna@żółw.pl"),
        ("+tylko-tag@firma.pl", "+tylko-tag@firma.pl"),
        ("jan+a+b@firma.pl", "jan@firma.pl"),
    ],
)
def test_addresses_normalise_case_tags_and_idn(written, norm):
    assert normalize_address(written) == norm


def test_domain_of_matches_the_normal_form():
    assert domain_of("Jan@XN--W-UGA1V8H.PL") == "żółw.pl"
    assert domain_of("no-at-sign") == ""


@pytest.mark.parametrize(
    "address, valid",
    [
        ("jan@firma.pl", True),
        ("jan.kowalski+x@sub.firma.com.pl", True),
        ("anna@żółw.pl", True),
        ("jan@firma", False),
        ("jan@@firma.pl", False),
        ("jan kowalski@firma.pl", False),
        ("@firma.pl", False),
        ("jan@-firma.pl", False),
        ("jan@firma.pl,", False),
    ],
)
def test_address_syntax_check(address, valid):
    assert is_valid_address(address) is valid


def test_domain_syntax_check():
    assert is_valid_domain("ogrody-sloneczne.com.pl")
    assert not is_valid_domain("localhost")
    assert not is_valid_domain("firma..pl")


@pytest.mark.parametrize(
    "typed", ["4477127826", "PL4477127826", "PL 447-712-78-26", "447 712 78 26"]
)
def test_nip_is_accepted_in_the_ways_people_write_it(typed):
    assert parse_nip(typed) == "4477127826"


@pytest.mark.parametrize(
    "typed, reason",
    [
        ("4477127827", "checksum"),
        ("447712782", "10 digits"),
        ("44771278X6", "not a number"),
    ],
)
def test_bad_nip_says_what_is_wrong(typed, reason):
    with pytest.raises(InvalidNipError, match=reason):
        parse_nip(typed)


def test_postal_code_is_checked_for_poland_only():
    assert parse_postal_code("61-001", "PL") == "61-001"
    assert parse_postal_code("61001", "PL") == "61-001"
    assert parse_postal_code("10115", "DE") == "10115"
    with pytest.raises(ContactError, match="NN-NNN"):
        parse_postal_code("6100", "PL")


def test_address_lists_split_on_commas_semicolons_and_spaces():
    cell = "a@firma.pl, b@firma.pl;c@firma.pl  d@firma.pl;a@firma.pl"
    assert parse_addresses(cell) == [
        "a@firma.pl",
        "b@firma.pl",
        "c@firma.pl",
        "d@firma.pl",
    ]
    with pytest.raises(ContactError, match="'b@' is not a valid"):
        parse_addresses("a@firma.pl b@")


def test_free_mail_domain_cannot_be_a_contacts_domain():
    assert parse_domains("Firma.PL @budmat.pl", {"wp.pl"}) == ["firma.pl", "budmat.pl"]
    with pytest.raises(ContactError, match="free-mail"):
        parse_domains("firma.pl WP.PL", {"wp.pl"})
