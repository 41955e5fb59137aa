"""The portal's ticket and contact events: who may send them, and what sticks."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from escalation.models import Company, Contact, OutboxEntry, Ticket
from escalation.priority import Level, Status
from tests.helpers import (
    PORTAL_SECRET,
    get_ticket,
    iso,
    load_fixture,
    post_portal,
    ticket_event,
)

T0 = datetime(2026, 12, 4, 9, 12, 5, tzinfo=UTC)
NOTHING_STORED = {"tickets": 0, "contacts": 0, "companies": 0, "outbox": 0}


def stored(db):
    """How many rows each table the portal webhook writes holds."""
    with db.sessions() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in (Ticket, Contact, Company, OutboxEntry)
        }


def the_ticket(db):
    with db.sessions() as session:
        return session.scalars(select(Ticket)).one()


def the_contact(db):
    with db.sessions() as session:
        return session.scalars(select(Contact)).one()


def contact_event(at, **fields):
    contact = {
        "email": "jorien.devries@example.nl",
        "name": "Jorien de Vries",
        "phone": "0591-123456",
        "mobile": "06 12 34 56 78",
        "company": "Voorbeeld Logistiek BV",
        "updated_at": iso(at),
        **fields,
    }
    return {"event": "contact_updated", "contact": contact}


@pytest.mark.parametrize(
    "secret",
    [None, "", "wrong-secret", PORTAL_SECRET.upper(), PORTAL_SECRET[:-1]],
    ids=["missing", "empty", "wrong", "wrong-case", "truncated"],
)
def test_event_without_the_shared_secret_is_refused_and_stores_nothing(
    client, db, secret
):
    response = post_portal(client, ticket_event(T0), secret=secret)

    assert response.status_code == 401
    assert "X-Portal-Secret" in response.json["error"]
    assert stored(db) == NOTHING_STORED


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ('{"event": "ticket_created", "ticket": {', "application/json"),
        ("event=ticket_created", "application/x-www-form-urlencoded"),
        ('["ticket_created"]', "application/json"),
        ('"ticket_created"', "application/json"),
    ],
    ids=["truncated", "form", "array", "string"],
)
def test_body_that_is_not_a_json_object_gets_400(client, db, data, content_type):
    response = client.post(
        "/webhooks/portal",
        data=data,
        content_type=content_type,
        headers={"X-Portal-Secret": PORTAL_SECRET},
    )

    assert response.status_code == 400
    assert "JSON" in response.json["error"]
    assert stored(db) == NOTHING_STORED


@pytest.mark.parametrize(
    ("field", "value", "named", "allowed"),
    [
        ("impact", "Critical", "ticket.impact", "low, medium, high"),
        ("urgency", "Urgent", "ticket.urgency", "low, medium, high"),
        (
            "priority_customer",
            "Blocker",
            "ticket.priority_customer",
            "low, medium, high, urgent",
        ),
    ],
)
def test_unknown_value_gets_422_naming_the_field_and_allowed_values(
    client, db, field, value, named, allowed
):
    response = post_portal(client, ticket_event(T0, **{field: value}))

    assert response.status_code == 422
    error = response.json["error"]
    assert error.startswith(f"{named} is '{value}'"), error
    assert f"allowed values are {allowed}" in error
    assert stored(db) == NOTHING_STORED


@pytest.mark.parametrize(
    ("missing", "named"),
    [
        ("updated_at", "ticket.updated_at"),
        ("id", "ticket.id"),
    ],
)
def test_event_without_id_or_updated_at_gets_422(client, db, missing, named):
    event = ticket_event(T0)
    del event["ticket"][missing]

    response = post_portal(client, event)

    assert response.status_code == 422
    assert response.json["error"].startswith(named)
    assert stored(db) == NOTHING_STORED


def test_fixture_event_stores_ticket_contact_and_company(client, db):
    body = load_fixture("freshdesk/automation-webhook.json")["body"]

    response = post_portal(client, body)

    assert response.status_code == 200
    assert response.json == {"outcome": "created"}
    assert stored(db) == {"tickets": 1, "contacts": 1, "companies": 1, "outbox": 1}
    ticket, contact = the_ticket(db), the_contact(db)
    with db.sessions() as session:
        company = session.scalars(select(Company)).one()
        entry = session.scalars(select(OutboxEntry)).one()
    assert (ticket.portal_id, ticket.status) == (48213, Status.OPEN)
    assert (ticket.impact, ticket.urgency) == (Level.HIGH, Level.HIGH)
    assert ticket.customer_priority is Level.URGENT
    assert ticket.urgent_requested_at == T0
    assert contact.email == "jorien.devries@example.nl"
    assert (contact.phone_raw, contact.phone_e164) == ("0591-123456", "+31591123456")
    assert (contact.mobile_raw, contact.mobile_e164) == (
        "06 12 34 56 78",
        "+31612345678",
    )
    assert company.name == "Voorbeeld Logistiek BV"
    assert ticket.requester_id == contact.id
    assert ticket.company_id == contact.company_id == company.id
    assert (entry.task, entry.args) == ("evaluate_ticket", [ticket.id])


def test_same_event_twice_is_a_duplicate_with_one_outbox_entry(client, db):
    event = ticket_event(T0)

    first = post_portal(client, event)
    second = post_portal(client, event)

    assert (first.json["outcome"], second.json["outcome"]) == ("created", "duplicate")
    assert second.status_code == 200
    assert stored(db) == {"tickets": 1, "contacts": 1, "companies": 1, "outbox": 1}


def test_older_event_after_a_newer_one_is_stale_and_changes_nothing(client, db):
    newer = ticket_event(
        T0 + timedelta(minutes=10),
        created_at=T0,
        event="ticket_updated",
        impact="Medium",
        urgency="Low",
        status="Pending",
    )
    older = ticket_event(T0, impact="High", urgency="High", status="Open")

    first = post_portal(client, newer)
    second = post_portal(client, older)

    assert (first.json["outcome"], second.json["outcome"]) == ("created", "stale")
    ticket = the_ticket(db)
    assert (ticket.impact, ticket.urgency) == (Level.MEDIUM, Level.LOW)
    assert ticket.status is Status.PENDING
    assert ticket.portal_updated_at == T0 + timedelta(minutes=10)
    assert ticket.urgent_requested_at is None
    assert stored(db)["outbox"] == 1


def test_update_to_high_urgency_starts_the_urgent_request_at_that_update(client, db):
    post_portal(client, ticket_event(T0, urgency="Medium"))
    assert the_ticket(db).urgent_requested_at is None
    raised_at = T0 + timedelta(minutes=25)

    response = post_portal(
        client,
        ticket_event(raised_at, created_at=T0, event="ticket_updated", urgency="High"),
    )

    assert response.json["outcome"] == "updated"
    ticket = the_ticket(db)
    assert ticket.urgency is Level.HIGH
    assert ticket.urgent_requested_at == raised_at
    assert stored(db)["outbox"] == 2


def test_later_update_of_an_urgent_request_keeps_its_window(client, db):
    post_portal(client, ticket_event(T0))

    post_portal(
        client,
        ticket_event(
            T0 + timedelta(minutes=25),
            created_at=T0,
            event="ticket_updated",
            subject="Orderflow staat nog steeds stil",
        ),
    )

    ticket = the_ticket(db)
    assert ticket.subject == "Orderflow staat nog steeds stil"
    assert ticket.urgent_requested_at == T0


@pytest.mark.parametrize("status", ["Resolved", "Closed", "4", "5"])
def test_resolved_or_closed_ticket_is_not_an_urgent_request(client, db, status):
    post_portal(client, ticket_event(datetime.now(UTC), status=status))

    ticket = the_ticket(db)
    assert not ticket.status.is_open
    assert ticket.urgent_requested_at is None
    assert get_ticket(client, 48213).json["escalation"]["state"] == "none"


def test_urgent_request_ends_when_the_ticket_is_resolved(client):
    now = datetime.now(UTC)
    post_portal(client, ticket_event(now - timedelta(minutes=10)))

    resolved = ticket_event(
        now - timedelta(minutes=5),
        created_at=now - timedelta(minutes=10),
        event="ticket_updated",
        status="Resolved",
    )
    post_portal(client, resolved)

    body = get_ticket(client, 48213).json
    assert (body["status"], body["escalation"]["state"]) == ("resolved", "none")


def test_reopened_ticket_is_an_urgent_request_again_with_a_new_window(client, db):
    post_portal(client, ticket_event(T0))
    post_portal(
        client,
        ticket_event(
            T0 + timedelta(hours=1),
            created_at=T0,
            event="ticket_updated",
            status="Resolved",
        ),
    )
    reopened_at = T0 + timedelta(hours=3)

    post_portal(
        client,
        ticket_event(reopened_at, created_at=T0, event="ticket_updated"),
    )

    ticket = the_ticket(db)
    assert ticket.status is Status.OPEN
    assert ticket.urgent_requested_at == reopened_at


def test_contact_update_replaces_the_numbers(client, db):
    post_portal(client, ticket_event(T0))

    response = post_portal(
        client,
        contact_event(
            T0 + timedelta(hours=1), phone="020 794 6095", mobile="06 87654321"
        ),
    )

    assert response.json["outcome"] == "updated"
    contact = the_contact(db)
    assert (contact.phone_raw, contact.phone_e164) == ("020 794 6095", "+31207946095")
    assert (contact.mobile_raw, contact.mobile_e164) == (
        "06 87654321",
        "+31687654321",
    )
    assert stored(db)["contacts"] == 1


def test_contact_update_asks_for_its_open_tickets_to_be_evaluated(client, db):
    post_portal(client, ticket_event(T0))

    post_portal(client, contact_event(T0 + timedelta(hours=1), mobile="06 87654321"))

    ticket = the_ticket(db)
    with db.sessions() as session:
        entries = session.scalars(select(OutboxEntry).order_by(OutboxEntry.id)).all()
    assert [(entry.task, entry.args) for entry in entries] == [
        ("evaluate_ticket", [ticket.id]),
        ("evaluate_ticket", [ticket.id]),
    ]


def test_older_contact_update_is_stale_and_keeps_the_numbers(client, db):
    post_portal(client, ticket_event(T0))

    response = post_portal(
        client, contact_event(T0 - timedelta(days=1), mobile="06 87654321")
    )

    assert response.json["outcome"] == "stale"
    assert the_contact(db).mobile_e164 == "+31612345678"


def test_contact_event_for_a_new_requester_creates_the_contact(client, db):
    response = post_portal(client, contact_event(T0, email="Nieuw@Example.nl"))

    assert response.json["outcome"] == "created"
    contact = the_contact(db)
    assert contact.email == "nieuw@example.nl"
    assert (contact.phone_e164, contact.mobile_e164) == (
        "+31591123456",
        "+31612345678",
    )


@pytest.mark.parametrize("status", ["Waiting on Customer", "7"])
def test_a_custom_portal_status_counts_as_open(client, db, status):
    response = post_portal(client, ticket_event(T0, status=status))

    assert response.status_code == 200
    with db.sessions() as session:
        ticket = session.scalar(select(Ticket))
        assert ticket.status.value == "pending"
        assert ticket.is_urgent_request


@pytest.mark.parametrize(
    "written",
    [
        "2026-12-04 09:12:05 UTC",
        "2026-12-04T10:12:05+01:00",
        "2026-12-04 10:12:05 +0100",
    ],
)
def test_portal_times_with_utc_or_an_offset_are_read_as_the_same_instant(
    client, db, written
):
    event = ticket_event(T0)
    event["ticket"]["updated_at"] = event["ticket"]["created_at"] = written
    assert post_portal(client, event).status_code == 200

    with db.sessions() as session:
        stored_at = session.scalar(select(Ticket.portal_updated_at))
    assert stored_at.isoformat() == "2026-12-04T09:12:05+00:00"


def test_a_time_without_a_zone_is_refused(client, db):
    event = ticket_event(T0)
    event["ticket"]["updated_at"] = "2026-12-04 09:12:05"

    response = post_portal(client, event)

    assert response.status_code == 422
    assert "needs a zone" in response.json["error"]
    assert stored(db) == NOTHING_STORED


def test_an_update_dated_in_the_future_is_refused(client, db):
    event = ticket_event(T0)
    event["ticket"]["updated_at"] = "2099-01-01T00:00:00Z"

    response = post_portal(client, event)

    assert response.status_code == 422
    assert "in the future" in response.json["error"]
    assert stored(db) == NOTHING_STORED


@pytest.mark.parametrize(
    "ticket_id",
    [10**30, "²", ["48213"], 0, -5],
    ids=["huge", "superscript", "list", "zero", "negative"],
)
def test_an_id_that_is_no_ticket_number_is_refused(client, db, ticket_id):
    response = post_portal(client, ticket_event(T0, portal_id=ticket_id))

    assert response.status_code == 422
    assert response.json["error"].startswith("ticket.id is")
    assert stored(db) == NOTHING_STORED


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("requester_email", ["a@example.nl"], "must be text"),
        ("requester_phone", "0" * 65, "at most 64"),
        ("company", "x" * 256, "at most 255"),
    ],
)
def test_a_field_of_the_wrong_type_or_size_is_refused(
    client, db, field, value, message
):
    response = post_portal(client, ticket_event(T0, **{field: value}))

    assert response.status_code == 422
    assert message in response.json["error"]
    assert stored(db) == NOTHING_STORED


def test_json_nested_deeper_than_the_parser_goes_is_a_bad_request(client, db):
    body = "[" * 100_000 + "]" * 100_000
    response = client.post(
        "/webhooks/portal",
        data=body,
        headers={"X-Portal-Secret": PORTAL_SECRET, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert stored(db) == NOTHING_STORED


def test_a_refused_event_does_not_log_the_value_it_refused(client, caplog):
    post_portal(client, ticket_event(T0, requester_email="+31612398765"))
    assert "612398765" not in caplog.text
