"""Business hours in Europe/Amsterdam, on both sides of daylight saving."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from escalation.business_hours import BusinessHours
from escalation.errors import ConfigError
from escalation.voice import PROMPTS
from tests.helpers import call_in, post_portal, ticket_event
from tests.twiml import only, parse, texts

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
HOURS = BusinessHours.parse("mon-fri 08:30-17:30; sat 10:00-12:00", "2026-12-25")


@pytest.mark.parametrize(
    ("utc", "is_open"),
    [
        # Monday 23 March 2026, CET (UTC+1): 07:45Z is 08:45 local.
        (datetime(2026, 3, 23, 7, 45, tzinfo=UTC), True),
        (datetime(2026, 3, 23, 7, 15, tzinfo=UTC), False),
        # Monday 30 March 2026, CEST (UTC+2): 06:45Z is 08:45 local.
        (datetime(2026, 3, 30, 6, 45, tzinfo=UTC), True),
        (datetime(2026, 3, 30, 15, 45, tzinfo=UTC), False),
        # Around the October change: Monday 26 October is CET again.
        (datetime(2026, 10, 23, 15, 15, tzinfo=UTC), True),  # Fri 17:15 CEST
        (datetime(2026, 10, 26, 16, 15, tzinfo=UTC), True),  # Mon 17:15 CET
        (datetime(2026, 10, 23, 15, 45, tzinfo=UTC), False),  # Fri 17:45 CEST
        # Saturday morning, Sunday, a holiday.
        (datetime(2026, 3, 28, 9, 30, tzinfo=UTC), True),
        (datetime(2026, 3, 29, 9, 30, tzinfo=UTC), False),
        (datetime(2026, 12, 25, 10, 0, tzinfo=UTC), False),
    ],
)
def test_open_is_judged_on_amsterdam_wall_clock(utc, is_open):
    assert HOURS.is_open(utc, AMSTERDAM) is is_open


def test_the_same_utc_time_differs_across_the_spring_change():
    before = datetime(2026, 3, 23, 6, 45, tzinfo=UTC)  # 07:45 CET, closed
    after = datetime(2026, 3, 30, 6, 45, tzinfo=UTC)  # 08:45 CEST, open
    assert (HOURS.is_open(before, AMSTERDAM), HOURS.is_open(after, AMSTERDAM)) == (
        False,
        True,
    )


def test_always_is_open_except_on_holidays():
    hours = BusinessHours.parse("always", "2026-12-25")
    assert hours.is_open(datetime(2026, 12, 24, 22, 0, tzinfo=UTC), AMSTERDAM)
    # 23:00 UTC on the 24th is already the 25th in Amsterdam.
    assert not hours.is_open(datetime(2026, 12, 24, 23, 0, tzinfo=UTC), AMSTERDAM)
    assert not hours.is_open(datetime(2026, 12, 25, 12, 0, tzinfo=UTC), AMSTERDAM)
    assert hours.holidays == frozenset({date(2026, 12, 25)})


@pytest.mark.parametrize(
    ("hours", "holidays", "message"),
    [
        ("mon-fry 08:30-17:30", "", "does not start with a day"),
        ("fri-mon 08:30-17:30", "", "runs backwards"),
        ("mon-fri 8h30-17h30", "", "HH:MM-HH:MM"),
        ("mon-fri 17:30-08:30", "", "closes before it opens"),
        ("mon-fri 08:30-17:30", "25-12-2026", "is not a date"),
    ],
)
def test_bad_hours_are_refused_with_the_fix(hours, holidays, message):
    with pytest.raises(ConfigError, match=message):
        BusinessHours.parse(hours, holidays)


def test_out_of_hours_caller_is_told_and_put_through_to_the_night_number(
    make_app, monkeypatch
):
    app = make_app(
        BUSINESS_HOURS="mon-fri 08:30-17:30",
        FORWARD_NUMBER="+31201111111",
        OUT_OF_HOURS_NUMBER="+31202222222",
    )
    client = app.test_client()
    sunday = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    monkeypatch.setattr("webhooks.twilio.utcnow", lambda: sunday)
    post_portal(client, ticket_event(sunday))

    root = parse(call_in(client, "+31612345678"))

    nl = PROMPTS["nl"]
    assert texts(root)[:2] == [nl["welcome"], nl["out_of_hours"]]
    assert only(root, "Dial").text == "+31202222222"


def test_in_hours_caller_goes_to_the_engineer_on_duty(make_app, monkeypatch):
    app = make_app(
        BUSINESS_HOURS="mon-fri 08:30-17:30",
        FORWARD_NUMBER="+31201111111",
        OUT_OF_HOURS_NUMBER="+31202222222",
    )
    client = app.test_client()
    monday = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # 10:00 in Amsterdam
    monkeypatch.setattr("webhooks.twilio.utcnow", lambda: monday)
    post_portal(client, ticket_event(monday))

    root = parse(call_in(client, "+31612345678"))

    assert PROMPTS["nl"]["out_of_hours"] not in texts(root)
    assert only(root, "Dial").text == "+31201111111"


@pytest.mark.parametrize(
    ("utc", "out_of_hours"),
    [
        (datetime(2026, 3, 27, 6, 45, tzinfo=UTC), True),  # Fri 07:45 CET
        (datetime(2026, 3, 30, 6, 45, tzinfo=UTC), False),  # Mon 08:45 CEST
        (datetime(2026, 10, 23, 15, 45, tzinfo=UTC), True),  # Fri 17:45 CEST
        (datetime(2026, 10, 26, 15, 45, tzinfo=UTC), False),  # Mon 16:45 CET
    ],
)
def test_the_line_follows_the_clock_across_daylight_saving_changes(
    make_app, monkeypatch, utc, out_of_hours
):
    app = make_app(
        BUSINESS_HOURS="mon-fri 08:30-17:30",
        FORWARD_NUMBER="+31201111111",
        OUT_OF_HOURS_NUMBER="+31202222222",
    )
    client = app.test_client()
    monkeypatch.setattr("webhooks.twilio.utcnow", lambda: utc)
    post_portal(client, ticket_event(utc))

    root = parse(call_in(client, "+31612345678"))

    nl = PROMPTS["nl"]
    assert (nl["out_of_hours"] in texts(root)) is out_of_hours
    expected = "+31202222222" if out_of_hours else "+31201111111"
    assert only(root, "Dial").text == expected
