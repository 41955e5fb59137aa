"""GET /api/tickets/<id>: a ticket's priority and escalation, for scripts."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from escalation.models import Call
from tests.helpers import (
    API_TOKEN,
    call_in,
    get_ticket,
    post_portal,
    ticket_event,
)

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer not-the-api-token"},
        {"Authorization": API_TOKEN},
        {"Authorization": f"Basic {API_TOKEN}"},
    ],
    ids=["missing", "wrong-token", "no-scheme", "basic"],
)
def test_request_without_the_api_token_gets_401(client, headers):
    post_portal(client, ticket_event(datetime.now(UTC)))

    response = client.get("/api/tickets/48213", headers=headers)

    assert response.status_code == 401
    assert "Authorization: Bearer" in response.json["error"]
    assert "ticket" not in response.json


def test_unknown_ticket_gets_404_with_a_json_error(client):
    response = get_ticket(client, 99999)

    assert response.status_code == 404
    assert response.json == {"error": "No ticket 99999 is known to the service."}


@pytest.mark.parametrize(
    ("requested", "now", "shown"),
    [
        (
            datetime(2026, 12, 4, 9, 12, 5, tzinfo=UTC),
            datetime(2026, 12, 4, 9, 20, tzinfo=UTC),
            ("2026-12-04T10:12:05+01:00", "2026-12-04T11:12:05+01:00"),
        ),
        (
            datetime(2026, 7, 3, 9, 12, 5, tzinfo=UTC),
            datetime(2026, 7, 3, 10, 12, 5, tzinfo=UTC),
            ("2026-07-03T11:12:05+02:00", "2026-07-03T12:12:05+02:00"),
        ),
    ],
    ids=["december-cet", "july-cest"],
)
def test_fresh_urgent_request_is_high_and_awaits_its_call(
    client, monkeypatch, requested, now, shown
):
    post_portal(client, ticket_event(requested))
    monkeypatch.setattr("escalation.api.utcnow", lambda: now)

    response = get_ticket(client, 48213)

    assert response.status_code == 200
    body = response.json
    assert (body["matrix_priority"], body["effective_priority"]) == ("urgent", "high")
    escalation = body["escalation"]
    assert escalation["state"] == "awaiting_call"
    assert (escalation["urgent_requested_at"], escalation["window_closes_at"]) == shown
    assert (body["confirming_call"], body["decision"]) == (None, None)


def test_urgent_request_with_a_matching_call_is_confirmed_urgent(client, db, work):
    requested = datetime.now(UTC) - timedelta(minutes=5)
    post_portal(client, ticket_event(requested))
    call_in(client, "+31612345678", "CA0000000000000000000000000000a001")

    work()
    body = get_ticket(client, 48213).json

    assert (body["effective_priority"], body["escalation"]["state"]) == (
        "urgent",
        "confirmed",
    )
    call = body["confirming_call"]
    assert call["call_sid"] == "CA0000000000000000000000000000a001"
    assert call["caller"] == "+31******678"
    decision = body["decision"]
    assert decision["outcome"] == "confirmed"
    assert decision["tied_by"] == "caller_id:requester"
    inputs = decision["inputs"]
    assert (inputs["impact"], inputs["urgency"]) == ("high", "high")
    assert inputs["call_sid"] == "CA0000000000000000000000000000a001"
    assert "12345678" not in str(body)


def test_confirming_call_time_is_shown_in_the_desk_time_zone(client, db, work):
    post_portal(client, ticket_event(datetime.now(UTC) - timedelta(minutes=5)))
    call_in(client, "+31612345678")
    work()

    body = get_ticket(client, 48213).json

    with db.sessions() as session:
        call = session.scalars(select(Call)).one()
    shown = datetime.fromisoformat(body["confirming_call"]["received_at"])
    assert shown == call.received_at
    assert shown.utcoffset() == call.received_at.astimezone(AMSTERDAM).utcoffset()


def test_urgent_request_without_a_call_expires_when_its_window_passes(client):
    requested = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    post_portal(client, ticket_event(requested))

    body = get_ticket(client, 48213).json

    assert body["effective_priority"] == "high"
    assert body["escalation"]["state"] == "expired"
    closes = datetime.fromisoformat(body["escalation"]["window_closes_at"])
    assert closes == requested + timedelta(minutes=60)
    assert body["confirming_call"] is None


def test_ticket_with_matrix_medium_has_no_escalation_state(client):
    event = ticket_event(
        datetime.now(UTC) - timedelta(minutes=5), impact="High", urgency="Low"
    )
    post_portal(client, event)

    body = get_ticket(client, 48213).json

    assert (body["matrix_priority"], body["effective_priority"]) == (
        "medium",
        "medium",
    )
    assert body["escalation"] == {
        "state": "none",
        "urgent_requested_at": None,
        "window_opens_at": None,
        "window_closes_at": None,
    }


def test_the_bearer_scheme_is_case_insensitive(client):
    post_portal(client, ticket_event(datetime.now(UTC)))
    response = client.get(
        "/api/tickets/48213", headers={"Authorization": f"bearer {API_TOKEN}"}
    )
    assert response.status_code == 200


def test_a_ticket_number_beyond_any_column_is_simply_unknown(client):
    response = client.get(
        "/api/tickets/99999999999999999999999",
        headers={"Authorization": f"Bearer {API_TOKEN}"},
    )
    assert response.status_code == 404
