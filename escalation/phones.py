"""Caller IDs and contact numbers, normalised to E.164, and their masks.

Numbers are compared only as E.164 strings: no "last nine digits" tricks.
A number that does not parse as a valid number matches nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers

# What carriers and Twilio put in From when the caller hides their number:
# keypad spellings of ANONYMOUS, RESTRICTED, BLOCKED, UNKNOWN, UNAVAILABLE,
# and the literal words. They must be caught before parsing, because
# "266696687" with region NL parses as a valid Dutch number.
WITHHELD_CALLER_IDS = frozenset(
    {
        "266696687",
        "7378742833",
        "2562533",
        "8656696",
        "86282452253",
        "anonymous",
        "restricted",
        "blocked",
        "unknown",
        "unavailable",
        "private",
        "withheld",
    }
)
NON_PHONE_PREFIXES = ("client:", "sip:")


@dataclass(frozen=True)
class CallerId:
    raw: str
    e164: str | None
    withheld: bool


def parse_caller_id(raw: str | None, region: str) -> CallerId:
    """Read Twilio's From: a matchable number, or a caller we cannot match."""
    text = (raw or "").strip()
    if not text or text.lstrip("+").lower() in WITHHELD_CALLER_IDS:
        return CallerId(raw=text, e164=None, withheld=True)
    return CallerId(raw=text, e164=to_e164(text, region), withheld=False)


def to_e164(raw: str | None, region: str) -> str | None:
    """The E.164 form of a number as a person typed it, or None if invalid."""
    text = (raw or "").strip()
    if not text or text.lower().startswith(NON_PHONE_PREFIXES):
        return None
    if text.lstrip("+").lower() in WITHHELD_CALLER_IDS:
        return None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask(number: str | None) -> str:
    """Keep the country code and the last three digits, hide the rest.

    >>> mask("+31612345678")
    '+31******678'
    """
    if not number:
        return "(none)"
    text = number.strip()
    if text.lower().startswith(NON_PHONE_PREFIXES):
        scheme = text.split(":", 1)[0]
        return f"{scheme}:***"
    digits = text.lstrip("+")
    if not digits.isdigit() or len(digits) < 6:
        return "***"
    # Only a number given with its "+" has a country code to show; in a
    # national form such as 0612345678 the leading digits are the number's.
    country = ""
    if text.startswith("+"):
        try:
            country = str(phonenumbers.parse(text).country_code)
        except phonenumbers.NumberParseException:
            country = ""
    hidden = len(digits) - len(country) - 3
    shown = f"+{country}" if country else ""
    return f"{shown}{'*' * hidden}{digits[-3:]}"
