"""Accounts: secrets encrypted at rest, plain connections only on loopback."""

import pytest
from sqlalchemy import func, select

from mailservice.accounts.models import Folder
from mailservice.accounts.secrets import decrypt_secret
from mailservice.accounts.service import (
    add_account,
    get_account,
    remove_account,
    set_secret,
)
from mailservice.messages.models import Message, MessageLocation
from mailservice.config import Settings
from mailservice.errors import AccountError, SecretKeyError


def _add(session, settings, **overrides):
    fields = dict(name="biuro", imap_host="127.0.0.1", imap_port=143,
                  imap_security="none", username="biuro@firma.pl", secret="tajne-hasło")
    fields.update(overrides)
    return add_account(session, settings, **fields)


def test_account_password_is_stored_encrypted_and_decrypts(session, settings):
    account = _add(session, settings)
    session.commit()

    stored = get_account(session, "biuro").secret_encrypted

    assert "tajne" not in stored
    assert decrypt_secret(settings, stored, account.name) == "tajne-hasło"


def test_wrong_secret_key_names_the_account(session, settings, tmp_path):
    account = _add(session, settings)
    other = Settings(data_dir=tmp_path / "other", database_url=settings.database_url)

    with pytest.raises(SecretKeyError, match="'biuro'"):
        decrypt_secret(other, account.secret_encrypted, account.name)


def test_plain_imap_is_refused_off_loopback(session, settings):
    with pytest.raises(AccountError, match="only on loopback"):
        _add(session, settings, imap_host="mail.example.com")


def test_duplicate_account_name_is_refused(session, settings):
    _add(session, settings)
    with pytest.raises(AccountError, match="exists already"):
        _add(session, settings)


def test_port_out_of_range_is_refused(session, settings):
    with pytest.raises(AccountError, match="between 1 and 65535"):
        _add(session, settings, imap_port=99999)


def test_new_password_replaces_the_stored_one(session, settings):
    _add(session, settings)
    session.commit()

    account = set_secret(session, settings, "biuro", "nowe-hasło")
    session.commit()

    assert decrypt_secret(settings, account.secret_encrypted, "biuro") == "nowe-hasło"


def test_removed_account_takes_its_folders_and_locations_but_not_messages(
    session, settings
):
    account = _add(session, settings)
    folder = Folder(account_id=account.id, wire_name="INBOX", name="INBOX")
    message = Message(identity_key="k", raw_sha256="r", size=1)
    session.add_all([folder, message])
    session.flush()
    session.add(MessageLocation(message_id=message.id, folder_id=folder.id,
                                uidvalidity=1, uid=1, raw_sha256="r"))
    session.commit()

    remove_account(session, "biuro")
    session.commit()

    assert session.scalar(select(func.count(Folder.id))) == 0
    assert session.scalar(select(func.count(MessageLocation.id))) == 0
    assert session.scalar(select(func.count(Message.id))) == 1
