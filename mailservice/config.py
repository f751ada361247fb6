"""The one typed settings object, read from the environment and a TOML file.

Nothing else in the package reads the environment: code asks `get_settings()`.
Precedence: arguments > environment (``MAILSERVICE_*``) > TOML file > defaults.
The TOML file is ``$MAILSERVICE_CONFIG`` or ``config/mailservice.toml`` when present;
an empty ``MAILSERVICE_CONFIG`` means no file.
"""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path

from pydantic import Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from mailservice.errors import ConfigurationError

DEFAULT_TOML = Path("config/mailservice.toml")

FREE_MAIL_DOMAINS = (
    "gmail.com googlemail.com yahoo.com outlook.com hotmail.com live.com icloud.com "
    "me.com aol.com gmx.com gmx.de proton.me protonmail.com wp.pl onet.pl onet.eu "
    "op.pl interia.pl interia.eu poczta.fm o2.pl tlen.pl go2.pl vp.pl autograf.pl "
    "buziaczek.pl gazeta.pl int.pl"
).split()


def _toml_path() -> Path | None:
    named = os.environ.get("MAILSERVICE_CONFIG")
    if named == "":  # set but empty: no settings file at all
        return None
    if named and not Path(named).is_file():
        raise ConfigurationError(f"MAILSERVICE_CONFIG names {named}, which is no file")
    path = Path(named or DEFAULT_TOML)
    return path if path.is_file() else None


def _check_toml(path: Path, known: set[str]) -> None:
    """Refuse a settings file that does not parse or names a setting that isn't."""
    try:
        values = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"settings file {path}: {exc}") from exc
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigurationError(
            f"settings file {path}: unknown setting(s) {', '.join(unknown)}; "
            "see config/mailservice.example.toml"
        )


class Settings(BaseSettings):
    """Everything configurable about one installation."""

    model_config = SettingsConfigDict(env_prefix="MAILSERVICE_", extra="ignore")

    data_dir: Path = Path("data")
    database_url: str = ""
    raw_store_dir: Path | None = None
    outbox_dir: Path = Path("outbox")
    # Fernet key (urlsafe base64, 32 bytes) for secrets at rest; when empty, a key
    # is created once in data_dir/secret.key so the embedded default needs no setup.
    secret_key: str = ""
    free_mail_domains: list[str] = Field(default_factory=lambda: list(FREE_MAIL_DOMAINS))
    thread_subject_window_days: int = 30
    fetch_batch_messages: int = 200
    fetch_batch_bytes: int = 16 * 1024 * 1024
    # Messages larger than this are streamed to the store in chunks of this size,
    # so one 50 MB attachment never sits whole in memory.
    fetch_chunk_bytes: int = 4 * 1024 * 1024
    imap_timeout_seconds: float = 60.0
    idle_seconds: int = 25 * 60
    poll_seconds: int = 60
    broker_url: str = ""
    # Outbound mail (issue 4). Message-IDs use mail_domain, else the account's domain.
    mail_domain: str = ""
    company_name: str = ""  # the `sender.company` of templates and signatures
    send_batch_size: int = 50
    send_per_minute: int = 600
    send_per_hour: int = 20000
    send_retry_base_seconds: float = 60.0
    send_max_age_hours: float = 120.0
    send_stranded_seconds: float = 900.0
    smtp_timeout_seconds: float = 60.0
    smtp_local_hostname: str = "localhost"
    sent_folder: str = ""
    embedded_worker_threads: int = 4
    dkim_selector: str = ""
    dkim_key_path: Path | None = None
    dkim_domain: str = ""
    # Bulk mailings (issue 5). The web app's address as recipients reach it: the
    # unsubscribe links of marketing mailings point there (RFC 8058 wants https).
    public_base_url: str = ""
    mailing_chunk_size: int = 10  # recipients rendered by one job
    mailing_stranded_seconds: float = 600.0  # a render claim older than this is free

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources = [init_settings, env_settings]
        toml = _toml_path()
        if toml is not None:
            _check_toml(toml, set(settings_cls.model_fields))
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml))
        return tuple(sources)

    @property
    def effective_database_url(self) -> str:
        """The database URL, defaulting to SQLite in the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'mailservice.db').resolve()}"

    @property
    def effective_raw_store_dir(self) -> Path:
        """Where raw messages live; a path on shared storage in production."""
        return self.raw_store_dir or self.data_dir / "raw"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read once; a bad value is a ConfigurationError."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in exc.errors()
        )
        raise ConfigurationError(f"invalid settings: {problems}") from exc
