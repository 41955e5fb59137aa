"""Configuration, read once from the environment (or a mapping in tests).

Every setting the service reads is declared here with its default, so that
this module and the README's table are the whole story.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from flask import current_app

from escalation.business_hours import DEFAULT_BUSINESS_HOURS, BusinessHours
from escalation.errors import ConfigError
from escalation.phones import to_e164

SECRET_NAMES = (
    "TWILIO_AUTH_TOKEN",
    "PORTAL_WEBHOOK_SECRET",
    "API_TOKEN",
    "SECRET_KEY",
)
LOCAL_SECRETS_FILE = "local-secrets.json"
DEFAULT_SUPPORT = "+31591200360"
PORTAL_KINDS = ("freshdesk",)
FIELD_NAME = re.compile(r"^[A-Za-z0-9_]{1,64}$")
FRESHDESK_ACCOUNT = re.compile(r"^[a-z0-9][a-z0-9-]*$")
FRESHDESK_HOST = re.compile(r"^[a-z0-9][a-z0-9.-]*\.[a-z]{2,}$")
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")


@dataclass(frozen=True)
class PortalFields:
    """The portal's names for the custom fields of the desk's ticket form."""

    impact: str = "cf_impact_sla"
    urgency: str = "cf_urgency_sla"
    customer_priority: str = "cf_priority_customer"
    application: str = "cf_application"


@dataclass(frozen=True)
class PortalSettings:
    """How to reach the portal's API; without a base URL there is no write-back."""

    kind: str
    base_url: str | None
    api_key: str = field(repr=False)
    fields: PortalFields
    downgrade_unconfirmed: bool
    timeout_seconds: float
    # The longest Retry-After a job waits out in place; longer waits are
    # left to the scheduler.
    retry_after_wait_seconds: int
    reconcile_minutes: int

    @property
    def enabled(self) -> bool:
        return self.base_url is not None

    @classmethod
    def load(cls, values: Mapping[str, str]) -> PortalSettings:
        base_url = _freshdesk_url(values)
        api_key = (values.get("FRESHDESK_API_KEY") or "").strip()
        if base_url and not api_key:
            raise ConfigError(
                "FRESHDESK_API_KEY must be set when FRESHDESK_DOMAIN is; find the "
                "key in Freshdesk under Profile settings, Your API Key"
            )
        if api_key and not base_url:
            raise ConfigError(
                "FRESHDESK_API_KEY is set but FRESHDESK_DOMAIN is not; give the "
                "account's domain, e.g. FRESHDESK_DOMAIN=acme for acme.freshdesk.com"
            )
        defaults = PortalFields()
        return cls(
            kind=_choice(values, "PORTAL_KIND", PORTAL_KINDS),
            base_url=base_url,
            api_key=api_key,
            fields=PortalFields(
                impact=_field_name(values, "PORTAL_FIELD_IMPACT", defaults.impact),
                urgency=_field_name(values, "PORTAL_FIELD_URGENCY", defaults.urgency),
                customer_priority=_field_name(
                    values, "PORTAL_FIELD_CUSTOMER_PRIORITY", defaults.customer_priority
                ),
                application=_field_name(
                    values, "PORTAL_FIELD_APPLICATION", defaults.application
                ),
            ),
            downgrade_unconfirmed=_bool(values, "PORTAL_DOWNGRADE_UNCONFIRMED", True),
            timeout_seconds=_seconds(values, "PORTAL_TIMEOUT_SECONDS", 10.0),
            retry_after_wait_seconds=_int(
                values, "PORTAL_RETRY_AFTER_WAIT_SECONDS", 20, minimum=0
            ),
            reconcile_minutes=_int(values, "RECONCILE_MINUTES", 10, minimum=1),
        )


@dataclass(frozen=True)
class Settings:
    database_url: str
    redis_url: str | None
    queue_name: str
    twilio_auth_token: str = field(repr=False)
    portal_webhook_secret: str = field(repr=False)
    api_token: str = field(repr=False)
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
    portal: PortalSettings
    secret_key: str = field(repr=False)
    session_cookie_secure: bool
    notify: NotifySettings

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
            portal=PortalSettings.load(values),
            secret_key=_secret(values, "SECRET_KEY"),
            session_cookie_secure=_bool(
                values,
                "SESSION_COOKIE_SECURE",
                (values.get("PUBLIC_BASE_URL") or "").startswith("https://"),
            ),
            notify=NotifySettings.load(values, region),
        )


def get_settings() -> Settings:
    return current_app.config["SETTINGS"]


def default_database_url(instance_path: str) -> str:
    return f"sqlite:///{Path(instance_path) / 'escalation.sqlite3'}"


def environment_with_local_secrets(instance_path: str) -> dict[str, str]:
    """The process environment, with missing secrets taken from the instance.

    On a single machine (``make run``) nobody has to invent secrets: the
    first start writes random ones to the instance folder, readable by the
    owner only, and the demo reads the same file. Production sets them
    all in the environment, and then the file is never read.
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


def _bool(values: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (values.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in TRUE_WORDS:
        return True
    if raw in FALSE_WORDS:
        return False
    raise ConfigError(f"{name} is {raw!r}; give true or false")


def _seconds(values: Mapping[str, str], name: str, default: float) -> float:
    raw = (values.get(name) or "").strip()
    if not raw:
        return default
    try:
        seconds = float(raw)
    except ValueError:
        raise ConfigError(f"{name} {raw!r} is not a number of seconds") from None
    if not 0 < seconds <= 120:
        raise ConfigError(f"{name} is {raw}; give seconds between 0 and 120, e.g. 10")
    return seconds


def _field_name(values: Mapping[str, str], name: str, default: str) -> str:
    value = _text(values, name, default)
    if not FIELD_NAME.match(value):
        raise ConfigError(
            f"{name} {value!r} is not a custom field name; give the field's API "
            f"name as the portal shows it, e.g. {default}"
        )
    return value


def _freshdesk_url(values: Mapping[str, str]) -> str | None:
    """The API's base URL: ``acme`` means https://acme.freshdesk.com."""
    raw = (values.get("FRESHDESK_DOMAIN") or "").strip().rstrip("/")
    if not raw:
        return None
    if raw.startswith(("https://", "http://")):
        return _full_url("FRESHDESK_DOMAIN", raw)
    host = raw.lower()
    if FRESHDESK_ACCOUNT.match(host):
        return f"https://{host}.freshdesk.com"
    if FRESHDESK_HOST.match(host):
        return f"https://{host}"
    raise ConfigError(
        f"FRESHDESK_DOMAIN {raw!r} is not a Freshdesk domain; give the account "
        "name (acme for https://acme.freshdesk.com), the host, or a full URL"
    )


def _full_url(name: str, raw: str) -> str:
    parts = urlsplit(raw)
    if not parts.hostname or parts.path or parts.query or parts.fragment:
        raise ConfigError(
            f"{name} {raw!r} is not a base URL; give scheme and host only, "
            "e.g. https://acme.freshdesk.com"
        )
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ConfigError(
            f"{name} {raw!r} would send the API key unencrypted; use https:// "
            "(plain http is accepted for 127.0.0.1 and localhost only)"
        )
    return raw


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


SMTP_SECURITY = ("starttls", "ssl", "none")
TWILIO_ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")


@dataclass(frozen=True)
class NotifySettings:
    """Where leads hear of a new Urgent ticket or review case; unset is off."""

    twilio_account_sid: str | None
    sms_from: str | None
    sms_to: tuple[str, ...]
    smtp_host: str | None
    smtp_port: int
    smtp_security: str
    smtp_user: str | None
    smtp_password: str = field(repr=False)
    smtp_from: str | None
    email_to: tuple[str, ...]
    chat_webhook_url: str | None = field(repr=False)
    timeout_seconds: float

    @property
    def sms_enabled(self) -> bool:
        return bool(self.twilio_account_sid and self.sms_from)

    @property
    def email_enabled(self) -> bool:
        return bool(self.smtp_host and self.email_to)

    @classmethod
    def load(cls, values: Mapping[str, str], region: str) -> NotifySettings:
        sid = _account_sid(values)
        sms_from = _phone(values, "SMS_FROM", region, None)
        sms_to = _phone_list(values, "LEADS_ON_DUTY_SMS", region)
        if (sms_from or sms_to) and not sid:
            raise ConfigError(
                "SMS_FROM or LEADS_ON_DUTY_SMS is set but TWILIO_ACCOUNT_SID is "
                "not; give the account SID from the Twilio console (AC...)"
            )
        if sid and not sms_from:
            raise ConfigError(
                "TWILIO_ACCOUNT_SID is set but SMS_FROM is not; give the Twilio "
                "number that sends the SMS, e.g. SMS_FROM=+3197010123456"
            )
        smtp_host = (values.get("SMTP_HOST") or "").strip() or None
        email_to = _address_list(values, "NOTIFY_EMAIL_TO")
        smtp_from = _address_list(values, "SMTP_FROM")
        if len(smtp_from) > 1:
            raise ConfigError("SMTP_FROM holds several addresses; give one sender")
        if (email_to or smtp_from) and not smtp_host:
            raise ConfigError(
                "NOTIFY_EMAIL_TO or SMTP_FROM is set but SMTP_HOST is not; give "
                "the mail server, e.g. SMTP_HOST=smtp.example.nl"
            )
        if smtp_host and not smtp_from:
            raise ConfigError(
                "SMTP_HOST is set but SMTP_FROM is not; give the sender address, "
                "e.g. SMTP_FROM=escalations@example.nl"
            )
        return cls(
            twilio_account_sid=sid,
            sms_from=sms_from,
            sms_to=sms_to,
            smtp_host=smtp_host,
            smtp_port=_int(values, "SMTP_PORT", 587, minimum=1),
            smtp_security=_choice(values, "SMTP_SECURITY", SMTP_SECURITY),
            smtp_user=(values.get("SMTP_USER") or "").strip() or None,
            smtp_password=values.get("SMTP_PASSWORD") or "",
            smtp_from=smtp_from[0] if smtp_from else None,
            email_to=email_to,
            chat_webhook_url=_webhook_url(values, "CHAT_WEBHOOK_URL"),
            timeout_seconds=_seconds(values, "NOTIFY_TIMEOUT_SECONDS", 10.0),
        )


def _account_sid(values: Mapping[str, str]) -> str | None:
    raw = (values.get("TWILIO_ACCOUNT_SID") or "").strip()
    if not raw:
        return None
    if not TWILIO_ACCOUNT_SID.match(raw):
        raise ConfigError(
            f"TWILIO_ACCOUNT_SID {raw[:6]!r}... is not an account SID; it is AC "
            "followed by 32 hexadecimal characters, as the Twilio console shows"
        )
    return raw


def _phone_list(values: Mapping[str, str], name: str, region: str) -> tuple[str, ...]:
    numbers = []
    for raw in (values.get(name) or "").split(","):
        if not raw.strip():
            continue
        e164 = to_e164(raw, region)
        if e164 is None:
            raise ConfigError(
                f"{name} holds {raw.strip()!r}, which is not a valid phone number "
                f"for region {region}; give E.164 numbers separated by commas, "
                "e.g. +31612345678,+31687654321"
            )
        numbers.append(e164)
    return tuple(dict.fromkeys(numbers))


def _address_list(values: Mapping[str, str], name: str) -> tuple[str, ...]:
    addresses = []
    for raw in (values.get(name) or "").split(","):
        address = raw.strip()
        if not address:
            continue
        local, at, domain = address.rpartition("@")
        if not (local and at and domain) or any(c.isspace() for c in address):
            raise ConfigError(
                f"{name} holds {address!r}, which is not an e-mail address; give "
                "addresses separated by commas, e.g. leads@example.nl"
            )
        addresses.append(address)
    return tuple(addresses)


def _webhook_url(values: Mapping[str, str], name: str) -> str | None:
    """A chat webhook's URL; it carries its own secret, so https only."""
    raw = (values.get(name) or "").strip()
    if not raw:
        return None
    parts = urlsplit(raw)
    loopback = parts.scheme == "http" and _is_loopback(parts.hostname or "")
    if not parts.hostname or not (parts.scheme == "https" or loopback):
        raise ConfigError(
            f"{name} is not an https:// URL; give the incoming-webhook URL the "
            "chat tool shows (plain http is accepted for 127.0.0.1 only)"
        )
    return raw
