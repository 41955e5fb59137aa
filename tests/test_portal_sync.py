"""The portal both ways, against a Freshdesk-compatible server on loopback:
write-back of a confirmed escalation and of a downgrade, events that lack
fields, late and repeated events, reopening, and every kind of failure."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

import jobs
from escalation.config import SECRET_NAMES, Settings
from escalation.errors import ConfigError
from escalation.models import (
    Call,
    Contact,
    Escalation,
    OutboxEntry,
    PortalWrite,
    Ticket,
)
from escalation.portal.notes import shown
from escalation.priority import Level
from tests.factories import make_call, make_ticket
from tests.freshdesk_server import (
    API_KEY,
    FreshdeskServer,
    malformed,
    portal_settings,
    rate_limited,
    refused,
    release_scheduled,
    scheduled,
    server_error,
    settle,
    slow,
)
from tests.helpers import (
    call_in,
    get_ticket,
    iso,
    post_portal,
    ticket_event,
)

MOBILE = "+31612345678"  # the fixture requester's mobile, "06 12 34 56 78"
NOW = datetime.now(UTC).replace(microsecond=0)
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
TICKET_PATH = "/api/v2/tickets/48213"
NOTES_PATH = "/api/v2/tickets/48213/notes"


@pytest.fixture
def freshdesk() -> Iterator[FreshdeskServer]:
    with FreshdeskServer() as server:
        server.add_ticket()
        yield server


@pytest.fixture
def app(make_app, freshdesk):
    return make_app(**portal_settings(freshdesk))


def the_write(db, kind: str = "confirmed") -> PortalWrite:
    with db.sessions() as session:
        return session.scalars(select(PortalWrite).filter_by(kind=kind)).one()


def priorities_sent(freshdesk) -> list[int]:
    return [r.body["priority"] for r in freshdesk.requests_to("PUT", TICKET_PATH)]


def sync(client) -> str:
    return get_ticket(client, 48213).json["portal_sync"]


def confirm(client) -> None:
    """An urgent request ten minutes ago, and the requester calling now."""
    post_portal(client, ticket_event(NOW - timedelta(minutes=10)))
    call_in(client, MOBILE)


def test_confirmed_escalation_sets_urgent_with_one_private_note(
    client, app, db, freshdesk
):
    confirm(client)
    settle(app)

    assert [(r.method, r.path) for r in freshdesk.requests] == [
        ("PUT", TICKET_PATH),
        ("POST", NOTES_PATH),
    ]
    assert {r.api_key for r in freshdesk.requests} == {API_KEY}
    assert freshdesk.requests[0].body == {"priority": 4}
    post = freshdesk.requests[1]
    assert post.body["private"] is True
    with db.sessions() as session:
        call = session.scalars(select(Call)).one()
        escalation = session.scalars(select(Escalation)).one()
    note = post.body["body"]
    assert f"{shown(call.received_at, AMSTERDAM)} from +31******678" in note
    assert "Europe/Amsterdam" in note
    assert "the caller&#x27;s number belongs to the requester" in note
    assert shown(escalation.window_opens_at, AMSTERDAM) in note
    assert shown(escalation.window_closes_at, AMSTERDAM) in note
    assert MOBILE not in note
    assert freshdesk.tickets[48213]["priority"] == 4
    assert len(freshdesk.notes(48213)) == 1
    assert sync(client) == "synced"


def test_running_the_write_again_posts_no_second_note(client, app, db, freshdesk):
    confirm(client)
    settle(app)
    with db.transaction() as session:
        entry = session.scalars(
            select(OutboxEntry).filter_by(task="push_escalation")
        ).one()
        entry.done_at = None  # as if the worker died before marking it done

    jobs.bind_app(app)
    assert jobs.run_outbox_entry(entry.id) == "done"

    assert priorities_sent(freshdesk) == [4]
    assert len(freshdesk.notes(48213)) == 1


def test_note_whose_answer_was_lost_is_found_and_not_posted_again(
    client, app, db, freshdesk
):
    freshdesk.script("POST", NOTES_PATH, slow(1.5))
    confirm(client)
    settle(app)

    assert len(freshdesk.notes(48213)) == 1  # the portal took it, late
    write = the_write(db)
    assert (write.state, write.note_state) == ("pending", "sending")
    assert sync(client) == "pending"

    release_scheduled(app)
    settle(app)

    assert len(freshdesk.requests_to("POST", NOTES_PATH)) == 1
    assert len(freshdesk.requests_to("GET", f"{TICKET_PATH}/conversations")) == 1
    assert len(freshdesk.notes(48213)) == 1
    assert the_write(db).note_state == "posted"
    assert sync(client) == "synced"


def test_short_retry_after_is_waited_out_in_place(client, app, freshdesk):
    freshdesk.script("PUT", TICKET_PATH, rate_limited(retry_after=1))
    confirm(client)
    settle(app)

    first, second = freshdesk.requests_to("PUT", TICKET_PATH)
    assert second.at - first.at >= 1.0
    assert len(freshdesk.notes(48213)) == 1
    assert sync(client) == "synced"


def test_long_retry_after_puts_the_job_back_for_that_long(make_app, freshdesk):
    app = make_app(**portal_settings(freshdesk, PORTAL_RETRY_AFTER_WAIT_SECONDS="0"))
    client = app.test_client()
    freshdesk.script("PUT", TICKET_PATH, rate_limited(retry_after=30))
    confirm(client)
    settle(app)

    [due] = scheduled(app).values()
    assert 25 <= (due - datetime.now(UTC)).total_seconds() <= 31
    assert priorities_sent(freshdesk) == [4]
    assert freshdesk.notes(48213) == []
    assert sync(client) == "pending"

    release_scheduled(app)
    settle(app)

    assert priorities_sent(freshdesk) == [4, 4]
    assert len(freshdesk.notes(48213)) == 1
    assert sync(client) == "synced"


@pytest.mark.parametrize(
    ("failure", "status"),
    [(server_error(), 500), (slow(1.5), None)],
    ids=["500", "timeout"],
)
def test_server_error_or_timeout_is_retried_with_backoff(
    client, app, db, freshdesk, failure, status
):
    freshdesk.script("PUT", TICKET_PATH, failure)
    confirm(client)
    settle(app)

    [due] = scheduled(app).values()
    assert 5 <= (due - datetime.now(UTC)).total_seconds() <= 11
    write = the_write(db)
    assert (write.state, write.attempts) == ("pending", 1)
    assert (write.request_method, write.request_path) == ("PUT", TICKET_PATH)
    assert write.response_status == status
    assert freshdesk.notes(48213) == []
    assert sync(client) == "pending"

    release_scheduled(app)
    settle(app)

    assert priorities_sent(freshdesk) == [4, 4]
    assert len(freshdesk.notes(48213)) == 1
    assert the_write(db).attempts == 2
    assert sync(client) == "synced"


def test_refused_write_fails_on_record_and_is_not_retried(client, app, db, freshdesk):
    freshdesk.script("PUT", TICKET_PATH, refused(400))
    confirm(client)
    settle(app)

    write = the_write(db)
    assert write.state == "failed"
    assert (write.request_method, write.request_path) == ("PUT", TICKET_PATH)
    assert write.request_body == {"priority": 4}
    assert write.response_status == 400
    assert "Validation failed" in write.response_body
    assert "refused PUT" in write.error
    assert scheduled(app) == {}
    assert freshdesk.notes(48213) == []
    with db.sessions() as session:
        assert (
            session.scalar(select(func.count()).where(OutboxEntry.done_at.is_(None)))
            == 0
        )
    assert sync(client) == "failed"


def test_wrong_api_key_fails_on_record_naming_the_setting(make_app, freshdesk, caplog):
    app = make_app(**portal_settings(freshdesk, FRESHDESK_API_KEY="not-the-key"))
    client = app.test_client()
    confirm(client)
    settle(app)

    write = the_write(app.extensions["escalation.db"])
    assert (write.state, write.response_status) == ("failed", 401)
    assert "check FRESHDESK_API_KEY" in write.error
    assert [r.api_key for r in freshdesk.requests] == ["not-the-key"]
    assert "not-the-key" not in caplog.text
    assert sync(client) == "failed"


def test_unconfirmed_urgent_in_the_portal_is_set_to_high_with_one_note(
    client, app, freshdesk
):
    post_portal(client, ticket_event(NOW - timedelta(minutes=10), priority="Urgent"))
    settle(app)

    assert priorities_sent(freshdesk) == [3]
    [note] = freshdesk.notes(48213)
    assert "no confirming call" in note["body"]
    assert "+31 591 200 360" in note["body"]
    assert sync(client) == "synced"

    later = {
        "event": "contact_updated",
        "contact": {
            "email": "jorien.devries@example.nl",
            "mobile": "06 12 34 56 78",
            "updated_at": iso(NOW),
        },
    }
    post_portal(client, later)
    settle(app)
    assert priorities_sent(freshdesk) == [3]
    assert len(freshdesk.notes(48213)) == 1


def test_a_call_after_the_downgrade_still_sets_urgent(client, app, freshdesk):
    post_portal(client, ticket_event(NOW - timedelta(minutes=10), priority="Urgent"))
    settle(app)
    call_in(client, MOBILE)
    settle(app)

    assert priorities_sent(freshdesk) == [3, 4]
    first, second = freshdesk.notes(48213)
    assert "no confirming call" in first["body"]
    assert "confirmed by a call" in second["body"]
    assert sync(client) == "synced"


def test_the_services_own_urgent_write_back_is_not_downgraded(client, app, freshdesk):
    confirm(client)
    settle(app)
    echoed = ticket_event(
        NOW - timedelta(minutes=1),
        event="ticket_updated",
        created_at=NOW - timedelta(minutes=10),
        priority="Urgent",
    )
    post_portal(client, echoed)
    settle(app)

    assert priorities_sent(freshdesk) == [4]
    assert len(freshdesk.notes(48213)) == 1


def test_downgrade_can_be_switched_off(make_app, freshdesk):
    settings = portal_settings(freshdesk, PORTAL_DOWNGRADE_UNCONFIRMED="false")
    app = make_app(**settings)
    client = app.test_client()
    post_portal(client, ticket_event(NOW - timedelta(minutes=10), priority="Urgent"))
    settle(app)

    assert freshdesk.requests == []
    assert sync(client) == "synced"


def test_ticket_resolved_before_the_write_leaves_the_queue(client, app, db, freshdesk):
    confirm(client)
    jobs.bind_app(app)
    with db.sessions() as session:
        evaluations = session.scalars(
            select(OutboxEntry.id).where(OutboxEntry.task.like("evaluate_%"))
        ).all()
    for entry_id in evaluations:  # the call confirms; the write waits its turn
        jobs.run_outbox_entry(entry_id)
    resolved = ticket_event(
        NOW - timedelta(minutes=1),
        event="ticket_updated",
        created_at=NOW - timedelta(minutes=10),
        status="Resolved",
    )
    post_portal(client, resolved)
    settle(app)

    assert freshdesk.requests == []
    write = the_write(db)
    assert write.state == "skipped"
    assert "resolved" in write.error
    assert sync(client) == "synced"


def test_without_a_portal_write_back_is_skipped_not_failed(make_app, caplog):
    app = make_app()
    client = app.test_client()
    confirm(client)
    settle(app)

    assert the_write(app.extensions["escalation.db"]).state == "skipped"
    assert sync(client) == "skipped"
    assert "FRESHDESK_DOMAIN is not set" in caplog.text


def test_event_without_impact_or_urgency_is_fetched_by_a_job(
    client, app, db, freshdesk
):
    response = post_portal(client, {"event": "ticket_created", "ticket": {"id": 48213}})

    assert response.status_code == 200
    assert response.json == {"outcome": "fetching"}
    assert freshdesk.requests == []  # the webhook did not wait for the portal

    settle(app)
    assert [(r.method, r.path) for r in freshdesk.requests] == [
        ("GET", TICKET_PATH),
        ("GET", "/api/v2/contacts/77000012345"),
        ("GET", "/api/v2/companies/77000000042"),
    ]
    with db.sessions() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert (ticket.impact, ticket.urgency) == (Level.HIGH, Level.HIGH)
        assert ticket.requester.email == "jorien.devries@example.nl"
        assert ticket.requester.mobile_e164 == MOBILE
        assert ticket.company.name == "Voorbeeld Logistiek BV"
        assert ticket.application == "Orderportaal"
        assert ticket.urgent_requested_at == datetime(2026, 12, 4, 9, 12, 5, tzinfo=UTC)


def test_event_without_its_requester_is_stored_and_the_requester_fetched(
    client, app, db, freshdesk
):
    event = ticket_event(NOW - timedelta(minutes=10))
    del event["ticket"]["requester_email"]
    freshdesk.tickets[48213]["updated_at"] = event["ticket"]["updated_at"]

    assert post_portal(client, event).json == {"outcome": "created"}
    settle(app)

    assert freshdesk.requests_to("GET", TICKET_PATH) != []
    with db.sessions() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert ticket.requester.email == "jorien.devries@example.nl"


def test_contact_event_with_only_its_id_is_fetched_by_a_job(client, app, db, freshdesk):
    body = {"event": "contact_updated", "contact": {"id": 77000012345}}

    assert post_portal(client, body).json == {"outcome": "fetching"}
    settle(app)

    assert [(r.method, r.path) for r in freshdesk.requests] == [
        ("GET", "/api/v2/contacts/77000012345"),
        ("GET", "/api/v2/companies/77000000042"),
    ]
    with db.sessions() as session:
        contact = session.scalars(select(Contact)).one()
        assert contact.email == "jorien.devries@example.nl"
        assert (contact.phone_e164, contact.mobile_e164) == ("+31591123456", MOBILE)
        assert contact.company.name == "Voorbeeld Logistiek BV"


def test_malformed_answer_is_retried(client, app, db, freshdesk):
    freshdesk.script("GET", TICKET_PATH, malformed())
    post_portal(client, {"event": "ticket_created", "ticket": {"id": 48213}})
    settle(app)

    assert len(scheduled(app)) == 1
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 0

    release_scheduled(app)
    settle(app)
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 1


def test_repeated_and_late_events_never_regress_newer_state(client, app, db, freshdesk):
    t1 = NOW - timedelta(minutes=30)
    post_portal(client, ticket_event(t1, urgency="High"))
    named = {"event": "ticket_updated", "ticket": {"id": 48213, "updated_at": iso(t1)}}
    assert post_portal(client, named).json == {"outcome": "duplicate"}
    assert freshdesk.requests == []

    t2 = NOW - timedelta(minutes=20)
    freshdesk.tickets[48213].update(
        updated_at=iso(t2),
        custom_fields={"cf_impact_sla": "High", "cf_urgency_sla": "Medium"},
    )
    named["ticket"]["updated_at"] = iso(t2)
    assert post_portal(client, named).json == {"outcome": "fetching"}
    settle(app)
    late = ticket_event(
        t1 + timedelta(minutes=5), event="ticket_updated", created_at=t1
    )
    assert post_portal(client, late).json == {"outcome": "stale"}

    with db.sessions() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert ticket.urgency is Level.MEDIUM
        assert ticket.portal_updated_at == t2


def test_reopened_ticket_is_downgraded_then_confirmed_again(client, app, db, freshdesk):
    first = NOW - timedelta(hours=5)
    make_ticket(db, first)
    make_call(db, MOBILE, at=first + timedelta(minutes=1))
    settle(app)
    assert priorities_sent(freshdesk) == [4]

    for at, status in ((first + timedelta(hours=1), "Resolved"), (NOW, "Open")):
        event = ticket_event(
            at,
            event="ticket_updated",
            created_at=first,
            status=status,
            priority="Urgent",
        )
        post_portal(client, event)
    settle(app)
    assert priorities_sent(freshdesk) == [4, 3]

    call_in(client, MOBILE)
    settle(app)

    assert priorities_sent(freshdesk) == [4, 3, 4]
    assert len(freshdesk.notes(48213)) == 3
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Escalation)) == 2
    assert sync(client) == "synced"


# Every secret the service requires, so that only the portal's settings vary.
BASE = {name: f"test-{name.lower()}" for name in SECRET_NAMES}


@pytest.mark.parametrize(
    ("domain", "base_url"),
    [
        ("acme", "https://acme.freshdesk.com"),
        ("Acme.Freshdesk.com", "https://acme.freshdesk.com"),
        ("https://acme.freshdesk.com/", "https://acme.freshdesk.com"),
        ("http://127.0.0.1:8765", "http://127.0.0.1:8765"),
        ("", None),
    ],
)
def test_freshdesk_domain_becomes_the_api_base_url(domain, base_url):
    key = "k" if domain else ""
    values = {**BASE, "FRESHDESK_DOMAIN": domain, "FRESHDESK_API_KEY": key}

    portal = Settings.load(values, ".").portal

    assert portal.base_url == base_url
    assert portal.enabled is (base_url is not None)
    assert "'k'" not in repr(portal)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"FRESHDESK_DOMAIN": "acme"}, "FRESHDESK_API_KEY must be set"),
        ({"FRESHDESK_API_KEY": "k"}, "FRESHDESK_DOMAIN is not"),
        ({"FRESHDESK_DOMAIN": "ac me", "FRESHDESK_API_KEY": "k"}, "not a Freshdesk"),
        (
            {"FRESHDESK_DOMAIN": "http://portal.example.nl", "FRESHDESK_API_KEY": "k"},
            "unencrypted",
        ),
        ({"PORTAL_KIND": "zendesk"}, "PORTAL_KIND is 'zendesk'"),
        ({"PORTAL_FIELD_IMPACT": "cf impact"}, "PORTAL_FIELD_IMPACT 'cf impact'"),
        ({"PORTAL_DOWNGRADE_UNCONFIRMED": "maybe"}, "true or false"),
        ({"PORTAL_TIMEOUT_SECONDS": "0"}, "PORTAL_TIMEOUT_SECONDS is 0"),
    ],
)
def test_bad_portal_settings_are_refused_with_the_fix(values, message):
    with pytest.raises(ConfigError, match=message):
        Settings.load({**BASE, **values}, ".")
