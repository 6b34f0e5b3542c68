"""Settings: embedded defaults, a TOML file, the environment on top, clear errors."""

from pathlib import Path

import pytest

from core.config import SettingsError, load_settings


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("MIMAMORI_"):
            monkeypatch.delenv(name)


def test_the_embedded_defaults_need_no_file() -> None:
    settings = load_settings()
    assert settings.data_dir == Path("var")
    assert settings.database_url == "sqlite://var/mimamori.db"
    assert settings.keyring == "var/keyring.json"
    assert settings.accounts.max_addresses == 2
    assert settings.timezone == "Asia/Tokyo"


def test_a_data_dir_moves_the_database_and_keyring(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    assert settings.database_url == f"sqlite://{tmp_path}/mimamori.db"
    assert settings.keyring == f"{tmp_path}/keyring.json"


def test_the_environment_overrides_the_file(tmp_path: Path, monkeypatch) -> None:
    config = tmp_path / "mimamori.toml"
    config.write_text('[smtp]\nhost = "mail.example.city"\nport = 2525\n', encoding="utf-8")
    monkeypatch.setenv("MIMAMORI_SMTP__PORT", "587")
    monkeypatch.setenv("MIMAMORI_CONFIG", str(config))
    settings = load_settings()
    assert (settings.smtp.host, settings.smtp.port) == ("mail.example.city", 587)


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[smtp]\nport = "many"\n', "setting smtp.port: a whole number is needed (got 'many')"),
        ('[smtp]\nhots = "x"\n', "setting smtp.hots: unknown setting"),
        ("[accounts]\nmax_addresses = 0\n", "setting accounts.max_addresses: Input should be greater"),
        ('database_url = "mysql://x"\n', "setting database_url: scheme 'mysql' is not supported"),
        ("[smtp\n", "is not valid TOML"),
        ("[smtp.lanes.yahoo]\nrate_per_second = 1\n", "no mail group yahoo (the groups: "),
        ("[webpush.lanes.opera]\nconcurrency = 2\n", "no push service opera (the services: fcm, "),
    ],
)
def test_a_bad_setting_is_named_in_one_line(tmp_path: Path, toml: str, message: str) -> None:
    config = tmp_path / "mimamori.toml"
    config.write_text(toml, encoding="utf-8")
    with pytest.raises(SettingsError) as error:
        load_settings(config)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_a_missing_config_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="nope.toml does not exist"):
        load_settings(tmp_path / "nope.toml")


def test_masked_settings_hide_passwords(monkeypatch) -> None:
    monkeypatch.setenv("MIMAMORI_SMTP__PASSWORD", "hunter2")
    monkeypatch.setenv("MIMAMORI_DATABASE_URL", "postgres://mimamori:s3cret@db.example.city/mimamori")
    masked = load_settings().masked()
    assert masked["smtp"]["password"] == "********"
    assert masked["database_url"] == "postgres://mimamori:********@db.example.city/mimamori"
    assert "hunter2" not in repr(masked) and "s3cret" not in repr(masked)
