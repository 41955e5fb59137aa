"""GET /api/escalations: the queue as JSON, as the OpenAPI document says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from escalation.openapi import ITEM_SCHEMAS
from escalation.queue_view import QueueState
from tests.factories import make_call, make_ticket
from tests.helpers import API_TOKEN, get_ticket

MOBILE = "+31612345678"  # the fixture requester's mobile
NOW = datetime.now(UTC).replace(microsecond=0)
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
JSON_TYPES = {
    "string": str,
    "integer": int,
    "object": dict,
    "array": list,
    "null": type(None),
}


def conforms(value: Any, schema: dict[str, Any], spec: dict[str, Any]) -> list[str]:
    """Where ``value`` breaks ``schema`` (the subset of JSON Schema used)."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return conforms(value, spec["components"]["schemas"][name], spec)
    if "oneOf" in schema:
        fits = [s for s in schema["oneOf"] if not conforms(value, s, spec)]
        return [] if len(fits) == 1 else [f"{value!r} fits {len(fits)} of oneOf"]
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else types
    if types and not any(_is(value, t) for t in types):
        return [f"{value!r} is not {types}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{value!r} not in {schema['enum']}"]
    problems = []
    if isinstance(value, dict) and "properties" in schema:
        missing = set(schema.get("required", [])) - set(value)
        extra = set(value) - set(schema["properties"])
        problems += [f"missing {sorted(missing)}"] if missing else []
        problems += [f"undocumented {sorted(extra)}"] if extra else []
        for key, sub in schema["properties"].items():
            if key in value:
                problems += [f"{key}: {p}" for p in conforms(value[key], sub, spec)]
    if isinstance(value, list) and "items" in schema:
        for item in value:
            problems += conforms(item, schema["items"], spec)
    return problems


def _is(value: Any, json_type: str) -> bool:
    if json_type == "integer" and isinstance(value, bool):
        return False
    return isinstance(value, JSON_TYPES[json_type])


def listing(client, state: str) -> dict[str, Any]:
    response = client.get(f"/api/escalations?state={state}", headers=AUTH)
    assert response.status_code == 200, response.json
    return response.json


def one_of_each(db) -> None:
    """An Urgent ticket, one awaiting its call, one expired, one unmatched
    call and one case for review."""
    make_ticket(db, NOW - timedelta(minutes=5))
    make_call(db, MOBILE, at=NOW)
    make_ticket(
        db,
        NOW - timedelta(minutes=20),
        portal_id=601,
        requester_email="waiting@example.nl",
        requester_mobile="+31611110601",
        company="Wachtend BV",
    )
    make_ticket(
        db,
        NOW - timedelta(hours=4),
        portal_id=602,
        requester_email="late@example.nl",
        requester_mobile="+31611110602",
        company="Laat BV",
    )
    make_call(db, "+31611110602", at=NOW)
    make_call(db, "+31201112233", at=NOW - timedelta(minutes=1))


@pytest.fixture
def spec(client) -> dict[str, Any]:
    return client.get("/api/openapi.json").json


def test_each_state_lists_its_tickets_and_calls(client, db, work):
    one_of_each(db)
    work()

    urgent = listing(client, "urgent")["items"]
    assert [item["ticket"] for item in urgent] == [48213]
    assert urgent[0]["caller"] == "+31******678"
    assert urgent[0]["acknowledged_by"] is None
    assert urgent[0]["url"] == "http://localhost/dashboard/tickets/48213"

    body = listing(client, "awaiting_call")
    [awaiting] = body["items"]
    assert awaiting["ticket"] == 601
    left = datetime.fromisoformat(
        awaiting["window_closes_at"]
    ) - datetime.fromisoformat(body["at"])
    assert abs(awaiting["seconds_left"] - left.total_seconds()) <= 1
    assert awaiting["seconds_left"] > 0

    [expired] = listing(client, "expired")["items"]
    assert (expired["ticket"], expired["seconds_left"]) == (602, 0)

    [unmatched] = listing(client, "unmatched")["items"]
    assert unmatched["caller"] == "+31******233"

    [review] = listing(client, "review")["items"]
    assert (review["reason"], review["tickets"]) == ("call_after_window", [602])
    assert review["caller"] == "+31******602"


def test_times_are_in_amsterdam_and_no_number_is_shown_in_full(client, db, work):
    one_of_each(db)
    work()

    for state in QueueState:
        body = listing(client, state.value)
        assert body["at"].endswith(("+01:00", "+02:00"))
        text = str(body)
        for number in (MOBILE, "+31611110602", "+31201112233"):
            assert number not in text


def test_the_lists_match_the_openapi_document(client, db, work, spec):
    one_of_each(db)
    work()

    for state in QueueState:
        body = listing(client, state.value)
        assert body["count"] == len(body["items"]) == 1
        assert (
            conforms(
                body,
                spec["paths"]["/api/escalations"]["get"]["responses"]["200"]["content"][
                    "application/json"
                ]["schema"],
                spec,
            )
            == []
        )
        item_schema = {"$ref": f"#/components/schemas/{ITEM_SCHEMAS[state]}"}
        assert conforms(body["items"][0], item_schema, spec) == []


def test_a_ticket_matches_the_openapi_document(client, db, work, spec):
    one_of_each(db)
    work()

    for portal_id in (48213, 601):
        body = get_ticket(client, portal_id).json
        assert conforms(body, {"$ref": "#/components/schemas/Ticket"}, spec) == []


def test_the_document_describes_every_api_route(app, spec):
    documented = {
        path.replace("{portal_id}", "<int:portal_id>") for path in spec["paths"]
    }
    served = {
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/") and rule.rule != "/api/openapi.json"
    }

    assert served == documented
    assert spec["openapi"] == "3.1.0"
    assert spec["components"]["securitySchemes"]["apiToken"]["scheme"] == "bearer"


def test_escalations_need_the_api_token(client):
    response = client.get("/api/escalations?state=urgent")

    assert response.status_code == 401
    assert response.json == {
        "error": "Send the header Authorization: Bearer <API_TOKEN>."
    }


@pytest.mark.parametrize(
    ("query", "shown"), [("", "missing"), ("?state=open", "'open'")]
)
def test_an_unknown_state_is_refused_with_the_allowed_ones(client, query, shown):
    response = client.get(f"/api/escalations{query}", headers=AUTH)

    assert response.status_code == 400
    assert response.json == {
        "error": f"state is {shown}; allowed values are urgent, awaiting_call, "
        "expired, unmatched, review"
    }
