"""Encryption of account secrets at rest (Fernet: AES-128-CBC with HMAC-SHA256)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from mailservice.config import Settings
from mailservice.errors import SecretKeyError

log = logging.getLogger(__name__)


def load_key(settings: Settings) -> bytes:
    """The Fernet key from the settings, or from data_dir/secret.key (made once)."""
    if settings.secret_key:
        return _checked(settings.secret_key.encode(), "MAILSERVICE_SECRET_KEY")
    path = settings.data_dir / "secret.key"
    if not path.exists():
        _create_key_file(path)
    return _checked(path.read_bytes().strip(), str(path))


def _checked(key: bytes, where: str) -> bytes:
    try:
        Fernet(key)
    except (ValueError, TypeError) as exc:
        raise SecretKeyError(
            f"the secret key in {where} is not a Fernet key (32 url-safe base64 "
            "bytes); make one with: python -c \"from cryptography.fernet import "
            "Fernet; print(Fernet.generate_key().decode())\""
        ) from exc
    return key


def _create_key_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(Fernet.generate_key())
    log.info("created a new secret key at %s", path)


def encrypt_secret(settings: Settings, plaintext: str) -> str:
    """The secret encrypted with the installation's key, as text for the database."""
    return Fernet(load_key(settings)).encrypt(plaintext.encode()).decode()


def decrypt_secret(settings: Settings, token: str, account_name: str) -> str:
    """The plaintext of a stored secret; a wrong key names the account."""
    key = load_key(settings)
    try:
        return Fernet(key).decrypt(token.encode()).decode()
    except (InvalidToken, ValueError) as exc:
        raise SecretKeyError(
            f"account {account_name!r}: its stored password cannot be decrypted with "
            "the configured secret key (MAILSERVICE_SECRET_KEY or data/secret.key); "
            "set the key it was saved with, or store the password again with "
            f"`mailservice account password {account_name}`"
        ) from exc
