"""Configuration, read once from the environment (or a mapping in tests).

Every setting the service reads is declared here with its default, so that
this module and the README's table are the whole story.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from flask import current_app

from escalation.business_hours import DEFAULT_BUSINESS_HOURS, BusinessHours
from escalation.errors import ConfigError
from escalation.phones import to_e164

SECRET_NAMES = ("TWILIO_AUTH_TOKEN", "PORTAL_WEBHOOK_SECRET", "API_TOKEN")
LOCAL_SECRETS_FILE = "local-secrets.json"
DEFAULT_SUPPORT = "+31591200360"


@dataclass(frozen=True)
class Settings:
    database_url: str
    redis_url: str | None
    queue_name: str
    twilio_auth_token: str
    portal_webhook_secret: str
    api_token: str
    public_base_url: str | None
    trusted_proxies: int
    default_region: str
    support_number: str
    window_minutes: int
    display_timezone: ZoneInfo
    default_language: str
    voice: str
    outbox_relay_seconds: int
    log_level: str
    voice_en: str
    forward_number: str | None
    out_of_hours_number: str | None
    business_hours: BusinessHours
    dial_timeout_seconds: int
    voicemail_max_seconds: int
    max_ticket_tries: int

    @classmethod
    def load(cls, values: Mapping[str, str], instance_path: str) -> Settings:
        """Build settings from ``values``, failing with a message per bad value."""
        region = _text(values, "DEFAULT_REGION", "NL").upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ConfigError(
                f"DEFAULT_REGION {region!r} is not a region phonenumbers knows; "
                "give a two-letter country code such as NL or BE"
            )

        return cls(
            database_url=_text(
                values, "DATABASE_URL", default_database_url(instance_path)
            ),
            redis_url=values.get("REDIS_URL") or None,
            queue_name=_text(values, "RQ_QUEUE", "escalation"),
            twilio_auth_token=_secret(values, "TWILIO_AUTH_TOKEN"),
            portal_webhook_secret=_secret(values, "PORTAL_WEBHOOK_SECRET"),
            api_token=_secret(values, "API_TOKEN"),
            public_base_url=_base_url(values),
            trusted_proxies=_int(values, "TRUSTED_PROXIES", 0, minimum=0),
            default_region=region,
            support_number=_phone(values, "SUPPORT_NUMBER", region, DEFAULT_SUPPORT)
            or DEFAULT_SUPPORT,
            window_minutes=_int(values, "ESCALATION_WINDOW_MINUTES", 60, minimum=1),
            display_timezone=_zone(values),
            default_language=_choice(values, "DEFAULT_LANGUAGE", ("nl", "en")),
            voice=_text(values, "VOICE", "Polly.Laura-Neural"),
            outbox_relay_seconds=_int(values, "OUTBOX_RELAY_SECONDS", 10, minimum=1),
            log_level=_text(values, "LOG_LEVEL", "INFO").upper(),
            voice_en=_text(values, "VOICE_EN", "Polly.Amy-Neural"),
            forward_number=_phone(values, "FORWARD_NUMBER", region, None),
            out_of_hours_number=_phone(values, "OUT_OF_HOURS_NUMBER", region, None),
            business_hours=BusinessHours.parse(
                _text(values, "BUSINESS_HOURS", DEFAULT_BUSINESS_HOURS),
                _text(values, "HOLIDAYS", ""),
            ),
            dial_timeout_seconds=_int(values, "DIAL_TIMEOUT_SECONDS", 20, minimum=5),
            voicemail_max_seconds=_int(
                values, "VOICEMAIL_MAX_SECONDS", 120, minimum=10
            ),
            max_ticket_tries=_int(values, "MAX_TICKET_TRIES", 3, minimum=1),
        )


def get_settings() -> Settings:
    return current_app.config["SETTINGS"]


def default_database_url(instance_path: str) -> str:
    return f"sqlite:///{Path(instance_path) / 'escalation.sqlite3'}"


def environment_with_local_secrets(instance_path: str) -> dict[str, str]:
    """The process environment, with missing secrets taken from the instance.

    On a single machine (``make run``) nobody has to invent secrets: the
    first start writes random ones to the instance folder, readable by the
    owner only, and the demo reads the same file. Production sets all
    three in the environment, and then the file is never read.
    """
    values = dict(os.environ)
    if all(values.get(name) for name in SECRET_NAMES):
        return values

    path = Path(instance_path) / LOCAL_SECRETS_FILE
    stored = json.loads(path.read_text()) if path.exists() else {}
    missing = [name for name in SECRET_NAMES if not stored.get(name)]
    if missing:
        stored.update({name: secrets.token_urlsafe(24) for name in missing})
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600, exist_ok=True)
        path.write_text(json.dumps(stored, indent=2))

    for name in SECRET_NAMES:
        if not values.get(name):
            values[name] = stored[name]
    return values


def _text(values: Mapping[str, str], name: str, default: str) -> str:
    value = (values.get(name) or "").strip()
    return value or default


def _choice(values: Mapping[str, str], name: str, allowed: tuple[str, ...]) -> str:
    value = _text(values, name, allowed[0]).lower()
    if value not in allowed:
        raise ConfigError(
            f"{name} is {value!r}; allowed values are {', '.join(allowed)}"
        )
    return value


def _secret(values: Mapping[str, str], name: str) -> str:
    value = (values.get(name) or "").strip()
    if len(value) < 8:
        raise ConfigError(f"{name} must be set to a secret of at least 8 characters")
    return value


def _int(values: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = (values.get(name) or "").strip()
    if not raw:
        return default
    try:
        number = int(raw)
    except ValueError:
        raise ConfigError(f"{name} {raw!r} is not a whole number") from None
    if number < minimum:
        raise ConfigError(f"{name} is {number}; it must be at least {minimum}")
    return number


def _base_url(values: Mapping[str, str]) -> str | None:
    raw = (values.get("PUBLIC_BASE_URL") or "").strip()
    if not raw:
        return None
    if not raw.startswith(("https://", "http://")):
        raise ConfigError(
            f"PUBLIC_BASE_URL {raw!r} must start with https:// (the address "
            "Twilio calls, e.g. https://support.example.nl)"
        )
    return raw.rstrip("/")


def _phone(
    values: Mapping[str, str], name: str, region: str, default: str | None
) -> str | None:
    raw = (values.get(name) or "").strip() or default
    if raw is None:
        return None
    e164 = to_e164(raw, region)
    if e164 is None:
        raise ConfigError(
            f"{name} {raw!r} is not a valid phone number for region "
            f"{region}; give it in E.164, e.g. +31591200360"
        )
    return e164


def _zone(values: Mapping[str, str]) -> ZoneInfo:
    name = _text(values, "DISPLAY_TIMEZONE", "Europe/Amsterdam")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"DISPLAY_TIMEZONE {name!r} is not a known time zone; "
            "use an IANA name such as Europe/Amsterdam"
        ) from None
