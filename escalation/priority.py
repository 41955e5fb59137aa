"""The desk's priority matrix and the words the portal uses for it."""

from __future__ import annotations

from enum import StrEnum

from escalation.errors import InvalidEvent


class Level(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    URGENT = "urgent"

    @property
    def rank(self) -> int:
        return list(Level).index(self)


class Status(StrEnum):
    OPEN = "open"
    PENDING = "pending"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def is_open(self) -> bool:
        return self in (Status.OPEN, Status.PENDING)


# The statuses in which a ticket is still being worked on.
OPEN_STATUSES = tuple(status for status in Status if status.is_open)

# Impact and urgency take three values; the customer's priority takes four.
SLA_LEVELS = (Level.LOW, Level.MEDIUM, Level.HIGH)

# (impact, urgency) -> priority, as the desk's process document defines it.
MATRIX: dict[tuple[Level, Level], Level] = {
    (Level.HIGH, Level.HIGH): Level.URGENT,
    (Level.HIGH, Level.MEDIUM): Level.HIGH,
    (Level.HIGH, Level.LOW): Level.MEDIUM,
    (Level.MEDIUM, Level.HIGH): Level.HIGH,
    (Level.MEDIUM, Level.MEDIUM): Level.MEDIUM,
    (Level.MEDIUM, Level.LOW): Level.LOW,
    (Level.LOW, Level.HIGH): Level.MEDIUM,
    (Level.LOW, Level.MEDIUM): Level.LOW,
    (Level.LOW, Level.LOW): Level.LOW,
}

# Freshdesk's numeric statuses, for payloads that carry the number.
PORTAL_STATUS_NUMBERS = {
    "2": Status.OPEN,
    "3": Status.PENDING,
    "4": Status.RESOLVED,
    "5": Status.CLOSED,
}


def matrix_priority(impact: Level, urgency: Level) -> Level:
    return MATRIX[(impact, urgency)]


def effective_priority(matrix: Level, confirmed: bool) -> Level:
    """Urgent needs a confirming call; without one, High is the ceiling."""
    if confirmed:
        return Level.URGENT
    return matrix if matrix.rank <= Level.HIGH.rank else Level.HIGH


def parse_level(field: str, value: object, allowed: tuple[Level, ...]) -> Level:
    """Read a level case-insensitively, or say which values are allowed."""
    text = str(value).strip().lower() if value is not None else ""
    for level in allowed:
        if text == level.value:
            return level
    names = ", ".join(level.value for level in allowed)
    shown = "missing" if value in (None, "") else f"{value!r}"
    raise InvalidEvent(f"{field} is {shown}; allowed values are {names}")


def parse_status(value: object) -> Status:
    """Read a portal status; the portal's own custom statuses count as pending.

    Freshdesk lets an admin add statuses ("Waiting on Customer", numbers 6
    and up); none of them resolves or closes a ticket, so they are open.
    """
    text = str(value).strip().lower() if value is not None else ""
    if not text:
        names = ", ".join(status.value for status in Status)
        raise InvalidEvent(
            f"ticket.status is missing; give one of {names}, Freshdesk's 2-5, "
            "or a custom status"
        )
    if text in PORTAL_STATUS_NUMBERS:
        return PORTAL_STATUS_NUMBERS[text]
    for status in Status:
        if text == status.value:
            return status
    return Status.PENDING


# Freshdesk's numeric priorities, 1..4, and the same read the other way.
PORTAL_PRIORITY_NUMBERS = {
    "1": Level.LOW,
    "2": Level.MEDIUM,
    "3": Level.HIGH,
    "4": Level.URGENT,
}
PORTAL_PRIORITY_OF_LEVEL = {
    level: int(number) for number, level in PORTAL_PRIORITY_NUMBERS.items()
}


def portal_level(value: object) -> Level | None:
    """The level a portal priority stands for ("Urgent", "urgent", 4), if any."""
    text = str(value).strip().lower() if value is not None else ""
    if text in PORTAL_PRIORITY_NUMBERS:
        return PORTAL_PRIORITY_NUMBERS[text]
    for level in Level:
        if text == level.value:
            return level
    return None
