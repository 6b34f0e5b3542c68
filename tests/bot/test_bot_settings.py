"""The [telegram] and [line] settings."""

import pytest

from core.config import SettingsError, load_settings


def test_webhook_mode_needs_its_secret_and_secrets_are_masked() -> None:
    with pytest.raises(SettingsError, match="telegram.webhook_secret: needed in webhook mode"):
        load_settings(None, telegram={"token": "1:abc", "mode": "webhook"})
    settings = load_settings(
        None,
        telegram={"token": "1:abc", "mode": "webhook", "webhook_secret": "s"},
        line={"access_token": "t", "channel_secret": "c"},
    )
    masked = settings.masked()
    assert masked["telegram"]["token"] == masked["telegram"]["webhook_secret"] == "********"
    assert masked["line"]["access_token"] == masked["line"]["channel_secret"] == "********"


def test_a_multicast_larger_than_line_allows_is_refused() -> None:
    with pytest.raises(SettingsError, match="line.multicast_size"):
        load_settings(None, line={"multicast_size": 501})
