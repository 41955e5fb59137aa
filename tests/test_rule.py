"""The rule end to end: ticket and call in either order, the window's edges,
repeats, rivals, reopening."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from escalation.models import Escalation, OutboxEntry
from tests.factories import make_call, make_ticket
from tests.helpers import call_in, get_ticket, post_portal, ticket_event

MOBILE = "+31612345678"  # the fixture requester's mobile, "06 12 34 56 78"
NOW = datetime.now(UTC).replace(microsecond=0)


def escalations(db) -> int:
    with db.sessions() as session:
        return session.scalar(select(func.count()).select_from(Escalation))


def state(client, portal_id: int = 48213) -> tuple[str, str]:
    body = get_ticket(client, portal_id).json
    return body["escalation"]["state"], body["effective_priority"]


def test_ticket_first_then_call_escalates(client, work):
    post_portal(client, ticket_event(NOW - timedelta(minutes=10)))
    work()
    assert state(client) == ("awaiting_call", "high")

    call_in(client, MOBILE)
    work()
    assert state(client) == ("confirmed", "urgent")


def test_call_first_is_kept_as_evidence_and_a_later_ticket_escalates(client, db, work):
    make_call(db, MOBILE, at=NOW - timedelta(minutes=20))
    work()
    assert escalations(db) == 0

    post_portal(client, ticket_event(NOW))
    work()
    assert state(client) == ("confirmed", "urgent")
    assert escalations(db) == 1


@pytest.mark.parametrize(
    ("call_offset", "escalated"),
    [
        (timedelta(minutes=-60), True),
        (timedelta(minutes=-59, seconds=-59), True),
        (timedelta(minutes=-60, seconds=-1), False),
        (timedelta(minutes=59, seconds=59), True),
        (timedelta(minutes=60), True),
        (timedelta(minutes=60, seconds=1), False),
    ],
    ids=[
        "call-60m-before",
        "call-just-inside-before",
        "call-just-outside-before",
        "call-just-inside-after",
        "call-60m-after",
        "call-just-outside-after",
    ],
)
def test_window_edges(client, db, work, call_offset, escalated):
    requested = NOW - timedelta(hours=3)
    make_ticket(db, requested)
    make_call(db, MOBILE, at=requested + call_offset)
    work()

    assert escalations(db) == (1 if escalated else 0)
    expected = ("confirmed", "urgent") if escalated else ("expired", "high")
    assert state(client) == expected


def test_window_follows_the_configured_minutes(make_app, work):
    app = make_app(ESCALATION_WINDOW_MINUTES="15")
    db = app.extensions["escalation.db"]
    requested = NOW - timedelta(hours=1)
    make_ticket(db, requested)
    make_call(db, MOBILE, at=requested + timedelta(minutes=16))
    from tests.conftest import run_jobs

    assert run_jobs(app) == 0
    assert escalations(db) == 0


def test_repeated_events_and_calls_escalate_once(client, db, work):
    event = ticket_event(NOW - timedelta(minutes=5))
    post_portal(client, event)
    post_portal(client, event)
    call_in(client, MOBILE, call_sid="CA" + "1" * 32)
    call_in(client, MOBILE, call_sid="CA" + "1" * 32)
    call_in(client, MOBILE)  # a second, real call within the window
    work()

    assert escalations(db) == 1
    with db.sessions() as session:
        done = session.scalars(
            select(OutboxEntry.done_at).where(OutboxEntry.task.like("evaluate_%"))
        ).all()
    # One entry for the ticket, one for each distinct call; all done.
    assert len(done) == 3 and all(done)


def test_the_first_call_in_the_window_is_the_confirming_one(client, db, work):
    requested = NOW - timedelta(minutes=30)
    first = make_call(db, MOBILE, at=requested - timedelta(minutes=10))
    make_call(db, MOBILE, at=requested + timedelta(minutes=5))
    make_ticket(db, requested)
    work()

    body = get_ticket(client, 48213).json
    assert body["confirming_call"]["call_sid"] == first.call_sid
    assert body["decision"]["inputs"]["call_offset_seconds"] == -600


def test_non_urgent_ticket_never_escalates(client, db, work):
    make_ticket(db, NOW, impact="High", urgency="Medium")
    make_call(db, MOBILE, at=NOW)
    work()
    assert escalations(db) == 0
    assert state(client) == ("none", "high")


@pytest.mark.parametrize("status", ["Resolved", "Closed"])
def test_resolved_or_closed_tickets_never_escalate(client, db, work, status):
    make_ticket(db, NOW, status=status)
    make_call(db, MOBILE, at=NOW)
    work()
    assert escalations(db) == 0


def test_company_colleague_call_confirms_the_ticket(client, db, work):
    colleague = {
        "event": "contact_updated",
        "contact": {
            "email": "pieter@example.nl",
            "name": "Pieter",
            "phone": "0591-654321",
            "company": "Voorbeeld Logistiek BV",
            "updated_at": NOW.isoformat(),
        },
    }
    assert post_portal(client, colleague).status_code == 200
    make_ticket(db, NOW - timedelta(minutes=5))
    make_call(db, "+31591654321", at=NOW)
    work()

    body = get_ticket(client, 48213).json
    assert body["escalation"]["state"] == "confirmed"
    assert body["decision"]["tied_by"] == "caller_id:company"


def test_caller_with_two_urgent_requests_is_not_escalated_automatically(
    client, db, work
):
    make_ticket(db, NOW - timedelta(minutes=10), portal_id=1001)
    make_ticket(db, NOW - timedelta(minutes=5), portal_id=1002)
    make_call(db, MOBILE, at=NOW)
    work()

    assert escalations(db) == 0
    assert state(client, 1001)[0] == "awaiting_call"
    assert state(client, 1002)[0] == "awaiting_call"


def test_a_number_added_later_ties_a_call_already_kept(client, db, work):
    make_ticket(db, NOW - timedelta(minutes=5), requester_mobile="")
    make_call(db, MOBILE, at=NOW)
    work()
    assert escalations(db) == 0

    update = {
        "event": "contact_updated",
        "contact": {
            "email": "jorien.devries@example.nl",
            "mobile": "06 12 34 56 78",
            "phone": "0591-123456",
            "updated_at": (NOW + timedelta(seconds=1)).isoformat(),
        },
    }
    assert post_portal(client, update).status_code == 200
    work()
    assert escalations(db) == 1


def test_reopened_ticket_gets_a_new_window_and_a_new_decision(client, db, work):
    first = NOW - timedelta(hours=5)
    make_ticket(db, first)
    make_call(db, MOBILE, at=first + timedelta(minutes=1))
    work()
    assert escalations(db) == 1

    resolved = ticket_event(
        first + timedelta(hours=1),
        event="ticket_updated",
        status="Resolved",
        created_at=first,
    )
    post_portal(client, resolved)
    reopened_at = NOW - timedelta(minutes=2)
    reopened = ticket_event(
        reopened_at, event="ticket_updated", status="Open", created_at=first
    )
    post_portal(client, reopened)
    work()
    assert state(client) == ("awaiting_call", "high")

    call_in(client, MOBILE)
    work()
    assert escalations(db) == 2
    body = get_ticket(client, 48213).json
    assert body["escalation"]["urgent_requested_at"].startswith(
        reopened_at.astimezone(body_zone()).isoformat()[:19]
    )


def body_zone():
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/Amsterdam")


def test_lowering_urgency_after_confirmation_caps_at_high(client, db, work):
    make_ticket(db, NOW - timedelta(minutes=5))
    make_call(db, MOBILE, at=NOW)
    work()
    lowered = ticket_event(
        NOW + timedelta(seconds=5),
        event="ticket_updated",
        urgency="Medium",
        created_at=NOW - timedelta(minutes=5),
    )
    post_portal(client, lowered)
    work()
    assert state(client) == ("none", "high")


def test_callers_own_ticket_outranks_a_colleagues(client, db, work):
    make_ticket(db, NOW - timedelta(minutes=10), portal_id=2001)
    make_ticket(
        db,
        NOW - timedelta(minutes=5),
        portal_id=2002,
        requester_email="collega@example.nl",
        requester_mobile="0687654321",
    )
    make_call(db, MOBILE, at=NOW)
    work()

    assert state(client, 2001)[0] == "confirmed"
    assert state(client, 2002)[0] == "awaiting_call"


def test_one_call_confirms_one_urgent_request_only(client, db, work):
    first = NOW - timedelta(minutes=30)
    make_ticket(db, first, portal_id=3001)
    make_call(db, MOBILE, at=first + timedelta(minutes=1))
    work()
    resolved = ticket_event(
        first + timedelta(minutes=5),
        portal_id=3001,
        event="ticket_updated",
        status="Resolved",
        created_at=first,
    )
    post_portal(client, resolved)
    make_ticket(db, first + timedelta(minutes=10), portal_id=3002)
    work()

    assert state(client, 3001)[0] == "confirmed"
    assert state(client, 3002) == ("awaiting_call", "high")


def test_a_confirmed_ticket_does_not_compete_for_a_new_call(client, db, work):
    make_ticket(db, NOW - timedelta(minutes=20), portal_id=4001)
    make_call(db, MOBILE, at=NOW - timedelta(minutes=19))
    work()
    make_ticket(db, NOW - timedelta(minutes=5), portal_id=4002)
    make_call(db, MOBILE, at=NOW)
    work()

    assert state(client, 4001)[0] == "confirmed"
    assert state(client, 4002)[0] == "confirmed"
    assert escalations(db) == 2
