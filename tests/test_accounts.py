"""Accounts: secrets encrypted at rest, plain connections only on loopback."""

import pytest

from mailservice.accounts.secrets import decrypt_secret
from mailservice.accounts.service import add_account, get_account
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
