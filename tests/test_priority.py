"""The desk's impact x urgency matrix, and the High ceiling without a call."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from escalation.errors import InvalidEvent
from escalation.models import Ticket
from escalation.priority import (
    SLA_LEVELS,
    Level,
    effective_priority,
    matrix_priority,
    parse_level,
)
from tests.helpers import get_ticket, post_portal, ticket_event

# The table in DESIGN.md, written out again here so that a change to the
# matrix in escalation/priority.py has to be a deliberate one.
DESIGN_TABLE = [
    ("high", "high", "urgent"),
    ("high", "medium", "high"),
    ("high", "low", "medium"),
    ("medium", "high", "high"),
    ("medium", "medium", "medium"),
    ("medium", "low", "low"),
    ("low", "high", "medium"),
    ("low", "medium", "low"),
    ("low", "low", "low"),
]


@pytest.mark.parametrize(("impact", "urgency", "priority"), DESIGN_TABLE)
def test_matrix_priority_follows_the_desk_table(impact, urgency, priority):
    assert matrix_priority(Level(impact), Level(urgency)) is Level(priority)


@pytest.mark.parametrize(("impact", "urgency", "priority"), DESIGN_TABLE)
def test_portal_ticket_shows_the_matrix_priority_of_its_impact_and_urgency(
    client, impact, urgency, priority
):
    event = ticket_event(
        datetime.now(UTC) - timedelta(minutes=5),
        impact=impact.title(),
        urgency=urgency.title(),
    )
    assert post_portal(client, event).status_code == 200

    body = get_ticket(client, 48213).json
    assert (body["impact"], body["urgency"]) == (impact, urgency)
    assert body["matrix_priority"] == priority


@pytest.mark.parametrize(
    ("matrix", "effective"),
    [
        (Level.URGENT, Level.HIGH),
        (Level.HIGH, Level.HIGH),
        (Level.MEDIUM, Level.MEDIUM),
        (Level.LOW, Level.LOW),
    ],
)
def test_effective_priority_is_at_most_high_without_a_confirming_call(
    matrix, effective
):
    assert effective_priority(matrix, confirmed=False) is effective


def test_effective_priority_is_urgent_once_a_call_confirms():
    assert effective_priority(Level.URGENT, confirmed=True) is Level.URGENT


def test_unconfirmed_urgent_ticket_reads_high_through_the_api(client):
    event = ticket_event(datetime.now(UTC) - timedelta(minutes=5))
    post_portal(client, event)

    body = get_ticket(client, 48213).json
    assert (body["matrix_priority"], body["effective_priority"]) == ("urgent", "high")


@pytest.mark.parametrize("typed", ["HIGH", " high ", "High", "high", "\thigh\n"])
def test_levels_are_read_whatever_their_case_and_spacing(typed):
    assert parse_level("ticket.impact", typed, SLA_LEVELS) is Level.HIGH


@pytest.mark.parametrize(
    ("impact", "urgency"), [("HIGH", " high "), (" High", "HIGH"), ("high", "High")]
)
def test_portal_event_levels_are_read_whatever_their_case(client, db, impact, urgency):
    event = ticket_event(
        datetime.now(UTC) - timedelta(minutes=5), impact=impact, urgency=urgency
    )
    assert post_portal(client, event).status_code == 200

    with db.sessions() as session:
        ticket = session.scalars(select(Ticket)).one()
    assert (ticket.impact, ticket.urgency) == (Level.HIGH, Level.HIGH)
    assert get_ticket(client, 48213).json["matrix_priority"] == "urgent"


@pytest.mark.parametrize(
    ("value", "shown"),
    [("Critical", "'Critical'"), ("urgent", "'urgent'"), (None, "missing")],
)
def test_unknown_impact_names_the_field_and_the_allowed_values(value, shown):
    with pytest.raises(InvalidEvent) as refused:
        parse_level("ticket.impact", value, SLA_LEVELS)

    assert str(refused.value) == (
        f"ticket.impact is {shown}; allowed values are low, medium, high"
    )
    assert refused.value.status == 422


def test_customer_priority_may_be_urgent_where_impact_may_not():
    level = parse_level("ticket.priority_customer", "Urgent", tuple(Level))
    assert level is Level.URGENT
