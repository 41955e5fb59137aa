"""Two workers at once: one escalation per urgent request (PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from rq import Worker
from sqlalchemy import func, select

import jobs
from escalation.models import Escalation, OutboxEntry
from escalation.queue import make_queue
from tests.factories import make_call, make_ticket

ROUNDS = 15


def race(*targets) -> list[BaseException]:
    barrier = threading.Barrier(len(targets))
    errors: list[BaseException] = []

    def run(target):
        try:
            barrier.wait(timeout=10)
            target()
        except BaseException as exc:  # collected and asserted on below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return errors


@pytest.mark.postgres_only
def test_call_job_and_ticket_job_racing_escalate_once(app, db):
    jobs.bind_app(app)
    now = datetime.now(UTC)
    for round_ in range(ROUNDS):
        portal_id = 5000 + round_
        mobile = f"+316{12340000 + round_}"
        make_ticket(
            db,
            now,
            portal_id=portal_id,
            requester_mobile=mobile,
            requester_email=f"r{round_}@example.nl",
            company=f"Firma {round_}",
        )
        make_call(db, mobile, at=now + timedelta(seconds=30))
        with db.sessions() as session:
            pending = session.scalars(
                select(OutboxEntry.id).where(
                    OutboxEntry.done_at.is_(None), OutboxEntry.task.like("evaluate_%")
                )
            ).all()
        assert len(pending) == 2

        errors = race(*(lambda n=n: jobs.run_outbox_entry(n) for n in pending))
        assert errors == []

    with db.sessions() as session:
        per_ticket = session.execute(
            select(Escalation.ticket_id, func.count()).group_by(Escalation.ticket_id)
        ).all()
    assert len(per_ticket) == ROUNDS
    assert {count for _, count in per_ticket} == {1}


@pytest.mark.postgres_only
def test_same_entry_run_by_two_workers_at_once_runs_once(app, db):
    jobs.bind_app(app)
    now = datetime.now(UTC)
    make_ticket(db, now)
    make_call(db, "+31612345678", at=now)
    with db.sessions() as session:
        ids = session.scalars(select(OutboxEntry.id)).all()

    results: list[str] = []
    errors = race(
        *(lambda n=n: results.append(jobs.run_outbox_entry(n)) for n in ids * 2)
    )
    assert errors == []
    assert sorted(results) == ["already done", "already done", "done", "done"]
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Escalation)) == 1


def test_forking_worker_runs_jobs_on_fresh_connections(app, db):
    """Each job runs in a forked work-horse; pooled connections must not leak in."""
    jobs.bind_app(app)
    now = datetime.now(UTC)
    for n in range(3):
        make_ticket(
            db,
            now,
            portal_id=7000 + n,
            requester_email=f"f{n}@example.nl",
            requester_mobile=f"+3161111000{n}",
            company=f"Firma {n}",
        )
        make_call(db, f"+3161111000{n}", at=now)
    with db.sessions() as session:  # warm the parent's pool before forking
        session.execute(select(OutboxEntry.id)).all()

    queue = make_queue(app.config["SETTINGS"])
    assert len(queue) == 6  # each entry was queued when its fact committed
    Worker([queue], connection=queue.connection).work(burst=True)

    assert len(queue.failed_job_registry) == 0
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Escalation)) == 3
        assert not session.scalars(
            select(OutboxEntry.id).where(
                OutboxEntry.done_at.is_(None), OutboxEntry.task.like("evaluate_%")
            )
        ).all()
