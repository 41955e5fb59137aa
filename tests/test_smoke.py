from datetime import UTC, datetime, timedelta

from tests.helpers import call_in, get_ticket, post_portal, ticket_event


def test_ticket_then_call_escalates(client, work):
    now = datetime.now(UTC)
    response = post_portal(client, ticket_event(now - timedelta(minutes=5)))
    assert response.status_code == 200, response.json
    work()
    assert get_ticket(client, 48213).json["escalation"]["state"] == "awaiting_call"

    response = call_in(client, "+31612345678")
    assert response.status_code == 200, response.data
    work()
    body = get_ticket(client, 48213).json
    assert body["effective_priority"] == "urgent", body
