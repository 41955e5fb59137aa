from datetime import UTC, datetime, timedelta

from escalation import outbox


def test_healthy_when_database_and_queue_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["status"] == "ok"
    assert response.json["database"]["ok"] is True
    assert response.json["queue"]["ok"] is True


def test_degraded_but_serving_when_work_waits_for_a_worker(client, db):
    with db.transaction() as session:
        entry = outbox.add(session, "evaluate_ticket", 1)
        entry.created_at = datetime.now(UTC) - timedelta(minutes=5)

    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["status"] == "degraded"
    assert response.json["database"]["oldest_pending_work_seconds"] >= 300


def test_degraded_when_redis_does_not_answer(make_app):
    client = make_app(REDIS_URL="redis://127.0.0.1:1/0").test_client()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["status"] == "down"
    assert response.json["queue"]["error"] == "ConnectionError"
