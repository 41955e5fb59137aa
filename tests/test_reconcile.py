"""The periodic pull: tickets the webhooks missed, every page, from where the
last good run started, without ever going back to an older state."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from escalation.models import SyncCursor, Ticket
from escalation.portal.reconcile import FIRST_LOOKBACK, OVERLAP, schedule
from escalation.priority import Level
from escalation.queue import make_queue
from tests.conftest import run_jobs
from tests.freshdesk_server import (
    FreshdeskServer,
    portal_settings,
    server_error,
    settle,
)
from tests.helpers import call_in, get_ticket, iso, post_portal, ticket_event

MOBILE = "+31612345678"
NOW = datetime.now(UTC).replace(microsecond=0)
LIST_PATH = "/api/v2/tickets"


@pytest.fixture
def freshdesk() -> Iterator[FreshdeskServer]:
    with FreshdeskServer() as server:
        yield server


@pytest.fixture
def app(make_app, freshdesk):
    return make_app(**portal_settings(freshdesk))


def reconcile(app):
    """``flask --app wsgi reconcile``, which runs in an app context."""
    with app.app_context():
        return app.test_cli_runner().invoke(args=["reconcile"])


def listed_since(freshdesk) -> list[datetime]:
    return [
        datetime.fromisoformat(r.query["updated_since"])
        for r in freshdesk.requests_to("GET", LIST_PATH)
    ]


def cursor(db) -> SyncCursor:
    with db.sessions() as session:
        return session.get(SyncCursor, "freshdesk_tickets")


def tickets(db) -> int:
    with db.sessions() as session:
        return session.scalar(select(func.count()).select_from(Ticket))


def test_pull_finds_a_ticket_the_webhooks_missed_and_it_escalates(
    app, client, db, freshdesk
):
    requested = iso(NOW - timedelta(minutes=5))
    freshdesk.add_ticket(created_at=requested, updated_at=requested)
    first_run = datetime.now(UTC)

    result = reconcile(app)

    assert result.exit_code == 0, result.output
    assert "1 seen, 1 stored" in result.output
    [listing] = freshdesk.requests_to("GET", LIST_PATH)
    assert listing.query["per_page"] == "100"
    assert listing.query["page"] == "1"
    [since] = listed_since(freshdesk)
    assert abs(since - (first_run - FIRST_LOOKBACK)) < timedelta(seconds=5)
    body = get_ticket(client, 48213).json
    assert body["escalation"]["state"] == "awaiting_call"

    call_in(client, MOBILE)
    settle(app)

    assert freshdesk.tickets[48213]["priority"] == 4
    assert len(freshdesk.notes(48213)) == 1
    body = get_ticket(client, 48213).json
    assert (body["escalation"]["state"], body["portal_sync"]) == ("confirmed", "synced")


def test_pull_reads_every_page_and_each_requester_once(app, db, freshdesk):
    for n in range(101):
        freshdesk.add_ticket(id=60000 + n, updated_at=iso(NOW - timedelta(seconds=n)))

    result = reconcile(app)

    assert result.exit_code == 0, result.output
    pages = [r.query["page"] for r in freshdesk.requests_to("GET", LIST_PATH)]
    assert pages == ["1", "2"]
    assert len(freshdesk.requests_to("GET", "/api/v2/contacts/77000012345")) == 1
    assert tickets(db) == 101


def test_next_pull_starts_where_the_last_good_one_did(app, db, freshdesk):
    assert reconcile(app).exit_code == 0
    started = cursor(db).succeeded_from

    assert reconcile(app).exit_code == 0

    assert listed_since(freshdesk)[1] == (started - OVERLAP).replace(microsecond=0)


def test_failed_pull_keeps_its_starting_point(app, db, freshdesk):
    assert reconcile(app).exit_code == 0
    started = cursor(db).succeeded_from
    freshdesk.script("GET", LIST_PATH, server_error())

    failed = reconcile(app)

    assert failed.exit_code == 1
    assert "answered 500" in failed.output
    assert cursor(db).succeeded_from == started
    assert "500" in cursor(db).error

    assert reconcile(app).exit_code == 0
    first, second, third = listed_since(freshdesk)
    assert second == third
    assert cursor(db).error is None


def test_pull_never_goes_back_to_an_older_state(app, client, db, freshdesk):
    older = NOW - timedelta(minutes=30)
    freshdesk.add_ticket(created_at=iso(older), updated_at=iso(older))
    newer = ticket_event(
        NOW - timedelta(minutes=10),
        event="ticket_updated",
        created_at=older,
        urgency="Medium",
    )
    post_portal(client, newer)

    result = reconcile(app)

    assert "1 unchanged" in result.output
    with db.sessions() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert ticket.urgency is Level.MEDIUM


def test_tickets_without_the_forms_fields_are_ignored(app, db, freshdesk):
    freshdesk.add_ticket(
        updated_at=iso(NOW),
        custom_fields={"cf_impact_sla": None, "cf_urgency_sla": None},
    )

    result = reconcile(app)

    assert result.exit_code == 0
    assert "1 seen, 0 stored, 0 unchanged, 1 ignored" in result.output
    assert tickets(db) == 0


def test_custom_field_names_come_from_the_settings(make_app, freshdesk):
    app = make_app(
        **portal_settings(
            freshdesk, PORTAL_FIELD_IMPACT="cf_impact", PORTAL_FIELD_URGENCY="cf_urg"
        )
    )
    freshdesk.add_ticket(
        updated_at=iso(NOW),
        custom_fields={"cf_impact": "High", "cf_urg": "Low", "cf_impact_sla": None},
    )

    assert reconcile(app).exit_code == 0

    with app.extensions["escalation.db"].sessions() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert (ticket.impact, ticket.urgency) == (Level.HIGH, Level.LOW)


def test_scheduled_pull_runs_as_a_job_once_per_period(app, db, freshdesk):
    freshdesk.add_ticket(updated_at=iso(NOW))
    queue = make_queue(app.config["SETTINGS"])

    period = datetime.fromtimestamp(int(NOW.timestamp()) // 600 * 600, UTC)

    first = schedule(queue, 10, period)
    again = schedule(queue, 10, period + timedelta(minutes=9, seconds=59))
    assert first is not None and again is None
    assert run_jobs(app) == 0
    assert len(freshdesk.requests_to("GET", LIST_PATH)) == 1
    assert tickets(db) == 1
    assert schedule(queue, 10, period + timedelta(minutes=10)) not in (None, first)


def test_pull_without_a_portal_says_what_to_set(make_app):
    result = reconcile(make_app())

    assert result.exit_code == 1
    assert "FRESHDESK_DOMAIN" in result.output
