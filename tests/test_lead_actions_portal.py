"""Leads' actions carried to the portal, against a Freshdesk-compatible
server on loopback: one private note per action, naming the lead and the
reason; Urgent with the evidence when a lead confirms; repeats and refusals."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

import jobs
from escalation.db import Database
from escalation.models import AuditEvent, Lead, OutboxEntry, PortalWrite, Review
from escalation.portal.notes import action_note as portal_note
from escalation.portal.notes import shown
from escalation.rule import Reason, open_review
from tests.dashboard_helpers import log_in, make_lead, post_action
from tests.factories import make_call, make_ticket
from tests.freshdesk_server import (
    API_KEY,
    FreshdeskServer,
    portal_settings,
    refused,
    scheduled,
    settle,
)

MOBILE = "+31612345678"  # the fixture requester's mobile
UNKNOWN = "+31201112233"
NOW = datetime.now(UTC).replace(microsecond=0)
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
TICKET_PAGE = "/dashboard/tickets/48213"
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


def urgent_ticket(app) -> None:
    """Ticket 48213 confirmed by the requester's call, its write-back done."""
    db = app.extensions["escalation.db"]
    make_ticket(db, NOW - timedelta(minutes=5))
    make_call(db, MOBILE, at=NOW)
    settle(app)


def review_case(app) -> str:
    """A call from an unknown number that typed 48213; the case's page."""
    db = app.extensions["escalation.db"]
    ticket = make_ticket(db, NOW - timedelta(minutes=5))
    call = make_call(db, UNKNOWN, at=NOW)
    with db.transaction() as session:
        open_review(
            session,
            Reason.TYPED_BY_UNKNOWN_CALLER,
            call=session.merge(call),
            ticket=session.merge(ticket),
        )
    settle(app)
    with db.sessions() as session:
        return f"/dashboard/reviews/{session.scalar(select(Review.id))}"


def the_event(db: Database) -> AuditEvent:
    with db.sessions() as session:
        return session.scalars(select(AuditEvent)).one()


def the_action_write(db: Database) -> PortalWrite:
    with db.sessions() as session:
        return session.scalars(select(PortalWrite).filter_by(kind="action")).one()


def action_note(event: AuditEvent, headline: str, *lines: str) -> str:
    items = ["Lead: Ann Lead", f"When: {shown(event.at, AMSTERDAM)}", *lines]
    listed = "".join(f"<li>{line}</li>" for line in items)
    return (
        f"<p><strong>{headline}</strong></p><ul>{listed}</ul>"
        f"<p>[escalation-line ref audit:{event.id}:{event.action}]</p>"
    )


def acknowledge(client) -> None:
    post_action(client, f"{TICKET_PAGE}/acknowledge", TICKET_PAGE)


def test_acknowledging_posts_one_private_note_naming_the_lead(
    client, app, db, freshdesk
):
    urgent_ticket(app)
    freshdesk.requests.clear()
    make_lead(db)
    log_in(client)

    acknowledge(client)
    settle(app)

    [post] = freshdesk.requests
    assert (post.method, post.path, post.api_key) == ("POST", NOTES_PATH, API_KEY)
    headline = "Acknowledged by Ann Lead: a support lead has taken this ticket on."
    assert post.body == {
        "body": action_note(the_event(db), headline),
        "private": True,
    }
    assert the_action_write(db).state == "synced"
    page = client.get(TICKET_PAGE).get_data(as_text=True)
    assert "Portal: synced, the note is in the portal" in page


def test_declining_posts_a_note_with_the_leads_reason(client, app, db, freshdesk):
    page = review_case(app)
    freshdesk.requests.clear()
    make_lead(db)
    log_in(client)

    post_action(client, f"{page}/decline", page, reason="the requester's colleague")
    settle(app)

    [post] = freshdesk.requests
    assert (post.method, post.path, post.api_key) == ("POST", NOTES_PATH, API_KEY)
    headline = "Not Urgent: the review case was declined by Ann Lead."
    why = "Why: the requester&#x27;s colleague"
    assert post.body == {
        "body": action_note(the_event(db), headline, why),
        "private": True,
    }


def test_confirming_sets_urgent_with_the_evidence_and_the_leads_note(
    client, app, db, freshdesk
):
    page = review_case(app)
    freshdesk.requests.clear()
    make_lead(db)
    log_in(client)

    post_action(client, f"{page}/confirm", page, reason="verified by phone")
    settle(app)

    put, evidence, lead_note = freshdesk.requests
    assert [(r.method, r.path, r.api_key) for r in freshdesk.requests] == [
        ("PUT", TICKET_PATH, API_KEY),
        ("POST", NOTES_PATH, API_KEY),
        ("POST", NOTES_PATH, API_KEY),
    ]
    assert put.body == {"priority": 4}
    assert evidence.body["private"] is True
    assert "Urgent: confirmed by a call to the support line." in evidence.body["body"]
    assert "a support lead tied the call to this ticket" in evidence.body["body"]
    assert "+31******233" in evidence.body["body"]
    headline = "Urgent: the review case was confirmed by Ann Lead."
    assert lead_note.body == {
        "body": action_note(the_event(db), headline, "Why: verified by phone"),
        "private": True,
    }
    assert freshdesk.tickets[48213]["priority"] == 4


def test_running_the_action_job_again_posts_no_second_note(client, app, db, freshdesk):
    urgent_ticket(app)
    freshdesk.requests.clear()
    make_lead(db)
    log_in(client)
    acknowledge(client)
    settle(app)
    with db.transaction() as session:
        entry = session.scalars(
            select(OutboxEntry).filter_by(task="portal_action")
        ).one()
        entry.done_at = None  # as if the worker died before marking it done

    jobs.bind_app(app)
    assert jobs.run_outbox_entry(entry.id) == "done"

    assert len(freshdesk.requests_to("POST", NOTES_PATH)) == 1
    assert the_action_write(db).attempts == 1


def test_refused_note_is_a_failed_write_shown_on_the_ticket_page(
    client, app, db, freshdesk
):
    urgent_ticket(app)
    freshdesk.script("POST", NOTES_PATH, refused(400))
    make_lead(db)
    log_in(client)

    acknowledge(client)
    settle(app)

    write = the_action_write(db)
    assert (write.state, write.response_status) == ("failed", 400)
    assert (write.request_method, write.request_path) == ("POST", NOTES_PATH)
    assert scheduled(app) == {}
    page = client.get(TICKET_PAGE).get_data(as_text=True)
    assert f"Portal: failed: the portal refused POST {NOTES_PATH} with 400" in page


def test_without_a_portal_the_action_is_recorded_as_skipped(make_app):
    app = make_app()
    db = app.extensions["escalation.db"]
    client = app.test_client()
    urgent_ticket(app)
    make_lead(db)
    log_in(client)

    acknowledge(client)
    settle(app)

    write = the_action_write(db)
    assert (write.state, write.note_state) == ("skipped", "none")
    page = client.get(TICKET_PAGE).get_data(as_text=True)
    assert "Portal: skipped: write-back is off: FRESHDESK_DOMAIN is not set" in page


def test_an_assignment_note_names_the_assignee_and_escapes_the_reason():
    event = AuditEvent(
        id=7,
        action="assign",
        at=datetime(2026, 12, 4, 9, 20, tzinfo=UTC),
        lead=Lead(name="Ann Lead"),
        assignee=Lead(name="Bob <ops>"),
        reason="knows the <b>customer</b>",
    )

    note = portal_note(event, AMSTERDAM, "audit:7:assign")

    assert note == (
        "<p><strong>Assigned to Bob &lt;ops&gt; by Ann Lead.</strong></p><ul>"
        "<li>Lead: Ann Lead</li><li>When: 2026-12-04 10:20 (Europe/Amsterdam)</li>"
        "<li>Assigned to: Bob &lt;ops&gt;</li>"
        "<li>Why: knows the &lt;b&gt;customer&lt;/b&gt;</li></ul>"
        "<p>[escalation-line ref audit:7:assign]</p>"
    )
