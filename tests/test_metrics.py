"""Operators read counts from /metrics with the API token."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.helpers import API_TOKEN, call_in, post_portal, ticket_event


def scrape(client) -> dict[str, float]:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {API_TOKEN}"})
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    lines = response.text.splitlines()
    samples = [line.split() for line in lines if not line.startswith("#")]
    return {name: float(value) for name, value in samples}


def test_metrics_count_calls_escalations_and_waiting_work(client, work):
    post_portal(client, ticket_event(datetime.now(UTC)))
    call_in(client, "+31612345678")
    before = scrape(client)
    assert before["escalation_calls_total"] == 1
    assert before["escalation_outbox_pending"] == 2
    assert before["escalation_queue_up"] == 1

    work()
    after = scrape(client)
    assert after["escalation_escalations_total"] == 1
    assert after["escalation_outbox_pending"] == 0


def test_metrics_need_the_api_token(client):
    assert client.get("/metrics").status_code == 401
