"""Settings come from the TOML file and the environment, the environment winning."""

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from mailservice.accounts.secrets import encrypt_secret
from mailservice.cli.main import cli
from mailservice.config import Settings, get_settings
from mailservice.errors import ConfigurationError, SecretKeyError

EXAMPLE = Path(__file__).resolve().parents[1] / "config" / "mailservice.example.toml"


def test_toml_file_is_read_and_environment_overrides_it(tmp_path, monkeypatch):
    toml = tmp_path / "mailservice.toml"
    toml.write_text('data_dir = "/srv/ms"\nthread_subject_window_days = 14\n')
    monkeypatch.setenv("MAILSERVICE_CONFIG", str(toml))
    monkeypatch.setenv("MAILSERVICE_THREAD_SUBJECT_WINDOW_DAYS", "7")

    settings = Settings()

    assert str(settings.data_dir) == "/srv/ms"
    assert settings.thread_subject_window_days == 7
    assert settings.effective_database_url == "sqlite:////srv/ms/mailservice.db"


def test_example_config_parses(monkeypatch):
    monkeypatch.setenv("MAILSERVICE_CONFIG", str(EXAMPLE))

    settings = Settings()

    assert settings.fetch_chunk_bytes == 4 * 1024 * 1024


def test_unknown_key_in_settings_file_is_named(tmp_path, monkeypatch):
    toml = tmp_path / "mailservice.toml"
    toml.write_text("poll_secnds = 3\n")
    monkeypatch.setenv("MAILSERVICE_CONFIG", str(toml))

    with pytest.raises(ConfigurationError, match="poll_secnds"):
        Settings()


def test_settings_file_that_does_not_parse_names_file_and_line(tmp_path, monkeypatch):
    toml = tmp_path / "mailservice.toml"
    toml.write_text("data_dir = \n")
    monkeypatch.setenv("MAILSERVICE_CONFIG", str(toml))

    with pytest.raises(ConfigurationError, match=r"mailservice.toml.*line 1"):
        Settings()


def test_missing_settings_file_named_in_environment_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("MAILSERVICE_CONFIG", str(tmp_path / "nothing.toml"))

    with pytest.raises(ConfigurationError, match="nothing.toml"):
        Settings()


def test_malformed_secret_key_says_so(tmp_path):
    settings = Settings(data_dir=tmp_path, secret_key="notakey")

    with pytest.raises(SecretKeyError, match="not a Fernet key"):
        encrypt_secret(settings, "hasło")


@pytest.fixture
def fresh_settings():
    """Commands read settings once per process; these tests each set their own."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_commands_on_a_database_without_schema_say_run_init(tmp_path, fresh_settings):
    env = {**os.environ, "MAILSERVICE_DATA_DIR": str(tmp_path)}
    env.pop("MAILSERVICE_DATABASE_URL", None)
    env.pop("MAILSERVICE_CONFIG", None)

    result = CliRunner().invoke(cli, ["stats"], env=env)

    assert result.exit_code == 1
    assert "run `mailservice init`" in result.output


def test_unparsable_database_url_is_explained(tmp_path, fresh_settings):
    result = CliRunner().invoke(cli, ["stats"], env={
        "MAILSERVICE_DATABASE_URL": "notaurl", "MAILSERVICE_DATA_DIR": str(tmp_path)})

    assert result.exit_code == 1
    assert "not a usable database URL" in result.output


def test_example_config_names_every_setting():
    text = EXAMPLE.read_text(encoding="utf-8")

    missing = [name for name in Settings.model_fields if f"{name} =" not in text]

    assert missing == []
