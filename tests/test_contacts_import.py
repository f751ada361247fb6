"""Importing contacts from CSV: good rows saved, bad rows named by line and reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from mailservice.cli.main import cli
from mailservice.config import get_settings
from mailservice.contacts.importing import import_contacts, import_contacts_data
from mailservice.contacts.models import Contact, ContactAddress, MessageContact, Person
from mailservice.errors import ContactImportError
from tests.test_contacts_linking import add_message

SAMPLE = Path(__file__).resolve().parents[1] / "config" / "contacts-sample.csv"
HEADER = "name,nip,postal_code,city,emails,domains\n"


def contacts(session) -> dict[str, Contact]:
    return {c.name: c for c in session.scalars(select(Contact))}


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_bad_rows_are_named_by_line_and_good_rows_imported(session, settings):
    data = (
        HEADER
        + "Budmat Sp. z o.o.,PL 447-712-78-26,61-001,Poznań,biuro@budmat.pl,budmat.pl\n"
        + "Zły NIP S.A.,447-712-78-27,61-001,Poznań,,\n"
        + "Zły adres,,00-950,Warszawa,jan@,\n"
        + ",2619730691,00-950,Warszawa,,\n"
        + "Zły kod,,6100,Poznań,,\n"
        + "Drewnex,,05-500,Piaseczno,a@drewnex.pl; b@drewnex.pl,\n"
    ).encode()

    report = import_contacts_data(session, settings, data)

    assert (report.imported, report.updated) == (2, 0)
    lines = [line for line, _reason in report.errors]
    assert lines == [3, 4, 5, 6]
    reasons = dict(report.errors)
    assert "checksum" in reasons[3] and "447-712-78-27" in reasons[3]
    assert reasons[4] == "emails: 'jan@' is not a valid e-mail address"
    assert reasons[5] == "name is missing"
    assert "NN-NNN" in reasons[6]
    saved = contacts(session)
    assert sorted(saved) == ["Budmat Sp. z o.o.", "Drewnex"]
    assert saved["Budmat Sp. z o.o."].nip == "4477127826"
    assert len(saved["Drewnex"].addresses) == 2


def test_a_row_with_several_faults_reports_them_all(session, settings):
    data = (HEADER + ",123,1,Poznań,x@y,gmail.com\n").encode()

    report = import_contacts_data(session, settings, data)

    ((line, reason),) = report.errors
    assert line == 2
    for part in ("name is missing", "NIP", "postal_code", "emails", "free-mail"):
        assert part in reason
    assert count(session, Contact) == 0


def test_semicolon_delimited_file_with_bom_from_excel(session, settings):
    text = (
        "Name;NIP;Postal code;City;Emails\r\n"
        "Biuro Rachunkowe Łęcka;261-973-06-91;80-827;Gdańsk;kontakt@lecka.pl\r\n"
    )

    report = import_contacts_data(session, settings, text.encode("utf-8-sig"))

    assert (report.imported, report.errors, report.warnings) == (1, [], [])
    contact = contacts(session)["Biuro Rachunkowe Łęcka"]
    assert (contact.nip, contact.postal_code) == ("2619730691", "80-827")


def test_windows_1250_file_keeps_polish_letters(session, settings):
    text = "name;city\r\nZakład Stolarski Dąb;Łódź\r\n"

    report = import_contacts_data(session, settings, text.encode("cp1250"))

    assert report.encoding == "cp1250"
    assert contacts(session)["Zakład Stolarski Dąb"].city == "Łódź"


def test_line_numbers_count_lines_inside_quoted_cells(session, settings):
    data = (
        'name,notes\n"Budmat","notatka\nw dwóch liniach"\nDrewnex,x\n,brak nazwy\n'
    ).encode()

    report = import_contacts_data(session, settings, data)

    assert report.errors == [(5, "name is missing")]
    assert contacts(session)["Budmat"].notes == "notatka\nw dwóch liniach"


def test_reimport_updates_by_nip_or_name_and_never_duplicates(session, settings):
    first = import_contacts(session, settings, SAMPLE)
    session.commit()
    sizes = (count(session, Contact), count(session, ContactAddress))

    again = import_contacts(session, settings, SAMPLE)
    session.commit()

    assert (first.imported, first.updated, first.errors) == (6, 0, [])
    assert (again.imported, again.updated, again.errors) == (0, 6, [])
    assert (count(session, Contact), count(session, ContactAddress)) == sizes


def test_reimport_overwrites_filled_cells_and_keeps_empty_ones(session, settings):
    first = HEADER + "Budmat,4477127826,61-001,Poznań,a@b.pl,\n"
    second = HEADER + "Budmat Nowa Nazwa,PL4477127826,,Luboń,,\n"
    import_contacts_data(session, settings, first.encode())

    report = import_contacts_data(session, settings, second.encode())

    assert (report.imported, report.updated) == (0, 1)
    (contact,) = contacts(session).values()
    assert (contact.name, contact.city, contact.postal_code) == (
        "Budmat Nowa Nazwa",
        "Luboń",
        "61-001",
    )
    assert [a.address for a in contact.addresses] == ["a@b.pl"]


def test_same_name_with_another_nip_is_another_contact(session, settings):
    data = HEADER + "Kowalski i S-ka,4477127826,,,,\nKowalski i S-ka,2619730691,,,,\n"

    report = import_contacts_data(session, settings, data.encode())

    assert report.imported == 2
    assert count(session, Contact) == 2


def test_domain_owned_by_another_contact_is_a_bad_row(session, settings):
    data = HEADER + "Budmat,,,,,budmat.pl\nPodróbka,,,,,budmat.pl\n"

    report = import_contacts_data(session, settings, data.encode())

    assert report.imported == 1
    assert report.errors == [
        (3, "domains: budmat.pl already belongs to contact 'Budmat'")
    ]


def test_people_on_further_rows_join_their_contact(session, settings):
    import_contacts(session, settings, SAMPLE)

    budmat = contacts(session)["Budmat Hurtownia Budowlana Sp. z o.o."]
    people = {p.name: p for p in budmat.people}
    assert sorted(people) == ["Ewa Wiśniewska", "Jan Kowalski"]
    owners = {a.address: a.person for a in budmat.addresses}
    assert owners["ewa.wisniewska@budmat-hurt.pl"] is people["Ewa Wiśniewska"]
    assert owners["biuro@budmat-hurt.pl"] is None
    assert count(session, Person) == 4


def test_import_links_mail_already_synced(session, settings):
    by_address = add_message(session, ("from", "K.Wojcik+sklep@gmail.com"))
    by_domain = add_message(session, ("from", "nowy@holz-handel.de"))

    import_contacts(session, settings, SAMPLE)

    linked = dict(
        session.execute(select(MessageContact.message_id, MessageContact.via)).all()
    )
    assert linked == {by_address.id: "address", by_domain.id: "domain"}


def test_file_without_a_name_column_is_refused(session, settings):
    with pytest.raises(ContactImportError, match="'name' column"):
        import_contacts_data(session, settings, b"nazwa,nip\nBudmat,4477127826\n")


def test_unknown_columns_are_reported_and_ignored(session, settings):
    report = import_contacts_data(session, settings, b"name,telefon\nBudmat,123\n")

    assert report.imported == 1
    assert report.warnings == ["column 'telefon' is not known and was ignored"]


@pytest.fixture
def run_cli(db_url, tmp_path, monkeypatch):
    """Run `mailservice ...` against the test database."""
    monkeypatch.setenv("MAILSERVICE_DATABASE_URL", db_url)
    monkeypatch.setenv("MAILSERVICE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MAILSERVICE_CONFIG", "")
    get_settings.cache_clear()
    yield lambda *args: CliRunner().invoke(cli, list(args))
    get_settings.cache_clear()


def test_cli_import_prints_counts_and_each_bad_line(run_cli, tmp_path):
    path = tmp_path / "kontrahenci.csv"
    path.write_text(HEADER + "Budmat,4477127826,,,,\nZły,4477127827,,,,\n")

    result = run_cli("contacts", "import", str(path))

    assert result.exit_code == 0, result.output
    assert "1 imported, 0 updated, 1 bad rows" in result.output
    assert "line 3: NIP '4477127827' fails its checksum" in result.output


def test_cli_import_of_a_missing_file_fails(run_cli, tmp_path):
    result = run_cli("contacts", "import", str(tmp_path / "brak.csv"))

    assert result.exit_code == 1
    assert "cannot read" in result.output and "brak.csv" in result.output


def test_cli_list_shows_imported_contacts(run_cli):
    assert run_cli("contacts", "import", str(SAMPLE)).exit_code == 0

    result = run_cli("contacts", "list")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 6
    budmat = next(line for line in lines if "Budmat" in line)
    assert "447-712-78-26  Poznań  4 addresses  0 messages" in budmat


def test_person_without_an_address_is_kept(session, settings):
    data = ("name,nip,person,person_position\n"
            "Firma Dobra,5239384994,Joanna Wójcik,Właścicielka\n").encode()

    import_contacts_data(session, settings, data)
    session.commit()
    session.expire_all()

    people = session.scalars(select(Person)).all()
    assert [(p.name, p.position) for p in people] == [("Joanna Wójcik", "Właścicielka")]
