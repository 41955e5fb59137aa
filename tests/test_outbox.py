"""A Redis outage delays the work and loses none of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from escalation import outbox
from escalation.embedded_redis import EmbeddedRedis
from escalation.models import Call, OutboxEntry
from escalation.queue import make_queue
from tests.conftest import run_jobs
from tests.helpers import call_in, get_ticket, post_portal, ticket_event


def entries(db) -> list[OutboxEntry]:
    with db.sessions() as session:
        return list(session.scalars(select(OutboxEntry).order_by(OutboxEntry.id)))


def test_webhook_commits_its_row_and_outbox_entry_and_enqueues(client, db, app):
    response = call_in(client, "+31612345678")
    assert response.status_code == 200

    [entry] = entries(db)
    assert entry.task == "evaluate_call"
    assert entry.enqueued_at is not None and entry.done_at is None
    queue = make_queue(app.config["SETTINGS"])
    assert queue.job_ids == [entry.job_id]


def test_redis_down_while_a_call_arrives_escalates_once_redis_is_back(
    make_app, tmp_path
):
    redis = EmbeddedRedis(tmp_path / "redis").start()
    app = make_app(REDIS_URL=redis.url)
    client = app.test_client()
    db = app.extensions["escalation.db"]
    now = datetime.now(UTC)
    try:
        assert (
            post_portal(client, ticket_event(now - timedelta(minutes=3))).status_code
            == 200
        )
        redis.stop()

        response = call_in(client, "+31612345678")
        assert response.status_code == 200
        assert b"geregistreerd" in response.data
        with db.sessions() as session:
            assert session.scalar(select(Call.call_sid)) is not None
        waiting = [e for e in entries(db) if e.enqueued_at is None]
        assert [e.task for e in waiting] == ["evaluate_call"]

        redis.start()
        assert run_jobs(app) == 0
        assert all(e.done_at is not None for e in entries(db))
        body = get_ticket(client, 48213).json
        assert body["escalation"]["state"] == "confirmed"
        assert body["effective_priority"] == "urgent"
    finally:
        redis.stop()


def waiting_entries(db, count: int, **fields) -> list[int]:
    """Entries whose enqueue after the commit never happened (Redis was away)."""
    with db.transaction() as session:
        added = [
            OutboxEntry(task="evaluate_ticket", args=[n], **fields)
            for n in range(count)
        ]
        session.add_all(added)
    return [entry.id for entry in added]


def test_committed_entries_are_queued_without_waiting_for_the_relay(app, db):
    with db.transaction() as session:
        entry = outbox.add(session, "evaluate_ticket", 1)
    queue = make_queue(app.config["SETTINGS"])

    assert queue.job_ids == [entry.job_id]
    assert outbox.relay(db, queue) == 0


def test_relay_sends_each_entry_once_even_when_run_twice(app, db):
    ids = waiting_entries(db, 2)
    queue = make_queue(app.config["SETTINGS"])

    assert outbox.relay(db, queue) == 2
    assert outbox.relay(db, queue) == 0
    assert sorted(queue.job_ids) == sorted(f"outbox-{n}" for n in ids)


def test_entry_lost_from_the_queue_is_sent_again(app, db):
    long_ago = datetime.now(UTC) - outbox.RESEND_AFTER - timedelta(seconds=1)
    [entry_id] = waiting_entries(db, 1, enqueued_at=long_ago)
    queue = make_queue(app.config["SETTINGS"])

    assert outbox.relay(db, queue) == 1
    assert queue.job_ids == [f"outbox-{entry_id}"]


def test_a_job_run_twice_does_its_work_once(app, db, work):
    import jobs

    client = app.test_client()
    post_portal(client, ticket_event(datetime.now(UTC)))
    call_in(client, "+31612345678")
    work()
    jobs.bind_app(app)
    for entry in entries(db):
        assert jobs.run_outbox_entry(entry.id) == "already done"


def test_a_released_savepoint_queues_nothing_before_the_commit(app, db):
    queue = make_queue(app.config["SETTINGS"])
    with db.transaction() as session:
        entry = outbox.add(session, "evaluate_ticket", 1)
        with session.begin_nested():
            pass
        assert queue.job_ids == []
    assert queue.job_ids == [entry.job_id]
