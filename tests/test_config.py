"""Settings: a bad value stops the start with the fix; secrets stay hidden."""

from __future__ import annotations

import json
import stat

import pytest

from escalation.config import (
    LOCAL_SECRETS_FILE,
    SECRET_NAMES,
    Settings,
    environment_with_local_secrets,
)
from escalation.errors import ConfigError

SECRETS = {name: f"secret-value-of-{name.lower()}" for name in SECRET_NAMES}


def load(**values: str) -> Settings:
    return Settings.load({**SECRETS, **values}, instance_path="/nonexistent")


def test_defaults_are_the_desks_own():
    settings = load()
    assert settings.support_number == "+31591200360"
    assert settings.window_minutes == 60
    assert settings.display_timezone.key == "Europe/Amsterdam"
    assert settings.database_url == "sqlite:////nonexistent/escalation.sqlite3"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SUPPORT_NUMBER", "0591", "SUPPORT_NUMBER '0591' is not a valid phone number"),
        ("DEFAULT_REGION", "XX", "DEFAULT_REGION 'XX' is not a region"),
        ("ESCALATION_WINDOW_MINUTES", "soon", "is not a whole number"),
        ("ESCALATION_WINDOW_MINUTES", "0", "must be at least 1"),
        ("DISPLAY_TIMEZONE", "Mars/Olympus", "is not a known time zone"),
        ("PUBLIC_BASE_URL", "support.example.nl", "must start with https://"),
        ("DEFAULT_LANGUAGE", "de", "allowed values are nl, en"),
        ("API_TOKEN", "short", "API_TOKEN must be set to a secret of at least 8"),
    ],
)
def test_a_bad_value_is_refused_with_a_message_naming_it(name, value, message):
    with pytest.raises(ConfigError, match=message):
        load(**{name: value})


def test_secrets_never_show_in_the_settings_repr():
    shown = repr(load())
    for value in SECRETS.values():
        assert value not in shown


def test_missing_secrets_are_made_once_and_kept_owner_only(tmp_path, monkeypatch):
    for name in SECRET_NAMES:
        monkeypatch.delenv(name, raising=False)

    first = environment_with_local_secrets(str(tmp_path))
    second = environment_with_local_secrets(str(tmp_path))

    path = tmp_path / LOCAL_SECRETS_FILE
    assert {name: first[name] for name in SECRET_NAMES} == json.loads(path.read_text())
    assert all(first[name] == second[name] for name in SECRET_NAMES)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_secret_from_the_environment_wins_over_the_file(tmp_path, monkeypatch):
    for name in SECRET_NAMES:
        monkeypatch.delenv(name, raising=False)
    environment_with_local_secrets(str(tmp_path))
    monkeypatch.setenv("API_TOKEN", "from-the-environment")

    assert environment_with_local_secrets(str(tmp_path))["API_TOKEN"] == (
        "from-the-environment"
    )
