"""Business hours per weekday, and holidays, in the desk's own time zone.

Written as ``mon-fri 08:30-17:30; sat 10:00-12:00`` (or ``always``), with
holidays as ``2026-12-25,2026-12-26``. A moment is converted from UTC to
the zone before it is compared, so daylight-saving changes need no care.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from escalation.errors import ConfigError

DEFAULT_BUSINESS_HOURS = "mon-fri 08:30-17:30"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Span = tuple[time, time]


@dataclass(frozen=True)
class BusinessHours:
    spans: dict[int, tuple[Span, ...]] = field(default_factory=dict)
    holidays: frozenset[date] = frozenset()
    always: bool = False

    @classmethod
    def parse(cls, hours: str, holidays: str = "") -> BusinessHours:
        closed_days = frozenset(_holiday(text) for text in _items(holidays, ","))
        if hours.strip().lower() == "always":
            return cls(holidays=closed_days, always=True)

        spans: dict[int, list[Span]] = {}
        for part in _items(hours, ";"):
            days, _, times = part.partition(" ")
            span = _span(times.strip(), part)
            for day in _days(days, part):
                spans.setdefault(day, []).append(span)
        frozen = {day: tuple(sorted(found)) for day, found in spans.items()}
        return cls(spans=frozen, holidays=closed_days)

    def is_open(self, moment: datetime, zone: ZoneInfo) -> bool:
        local = moment.astimezone(zone)
        if local.date() in self.holidays:
            return False
        if self.always:
            return True
        now = local.time()
        return any(
            start <= now < end for start, end in self.spans.get(local.weekday(), ())
        )


def _items(text: str, separator: str) -> list[str]:
    return [item.strip() for item in text.split(separator) if item.strip()]


def _days(text: str, part: str) -> list[int]:
    first, _, last = text.lower().partition("-")
    if first not in DAYS or (last and last not in DAYS):
        raise ConfigError(
            f"BUSINESS_HOURS part {part!r} does not start with a day or day range "
            "such as mon-fri or sat"
        )
    start = DAYS.index(first)
    end = DAYS.index(last) if last else start
    if end < start:
        raise ConfigError(f"BUSINESS_HOURS part {part!r} runs backwards; write mon-fri")
    return list(range(start, end + 1))


def _span(text: str, part: str) -> Span:
    opens, _, closes = text.partition("-")
    try:
        span = (time.fromisoformat(opens.strip()), time.fromisoformat(closes.strip()))
    except ValueError:
        raise ConfigError(
            f"BUSINESS_HOURS part {part!r} needs hours as HH:MM-HH:MM, e.g. 08:30-17:30"
        ) from None
    if span[0] >= span[1]:
        raise ConfigError(f"BUSINESS_HOURS part {part!r} closes before it opens")
    return span


def _holiday(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"HOLIDAYS entry {text!r} is not a date; write 2026-12-25"
        ) from None
