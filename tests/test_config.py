"""Settings come from the TOML file and the environment, the environment winning."""

from pathlib import Path

from mailservice.config import Settings

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
