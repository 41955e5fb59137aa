"""The leads' dashboard over HTTP: login, CSRF, pages and actions."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from escalation.db import Database
from escalation.lead_actions import ActionRefused, confirm_review
from escalation.leads import authenticate, create_lead
from escalation.models import (
    Acknowledgement,
    AuditEvent,
    Escalation,
    Lead,
    OutboxEntry,
    PortalWrite,
    Review,
)
from escalation.rule import Reason, open_review
from tests.dashboard_helpers import (
    PASSWORD,
    csrf_of,
    log_in,
    make_lead,
    post_action,
)
from tests.factories import make_call, make_ticket
from tests.helpers import get_ticket

MOBILE = "+31612345678"  # the fixture requester's mobile
UNKNOWN = "+31201112233"
NOW = datetime.now(UTC).replace(microsecond=0)
TICKET_PAGE = "/dashboard/tickets/48213"

PAGES = [
    "/dashboard/",
    "/dashboard/queue",
    TICKET_PAGE,
    "/dashboard/reviews/1",
]
ACTIONS = [
    "/dashboard/tickets/48213/acknowledge",
    "/dashboard/tickets/48213/assign",
    "/dashboard/reviews/1/confirm",
    "/dashboard/reviews/1/decline",
    "/dashboard/logout",
]


def count(db: Database, model: type) -> int:
    with db.sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def urgent_ticket(db: Database, work) -> None:
    make_ticket(db, NOW - timedelta(minutes=5))
    make_call(db, MOBILE, at=NOW)
    work()


def review_case(db: Database, reason: Reason = Reason.TYPED_BY_UNKNOWN_CALLER) -> int:
    """A call from an unknown number that typed ticket 48213's number."""
    ticket = make_ticket(db, NOW - timedelta(minutes=5))
    call = make_call(db, UNKNOWN, at=NOW)
    with db.transaction() as session:
        open_review(
            session,
            reason,
            call=session.merge(call),
            ticket=session.merge(ticket),
        )
        return session.scalar(select(Review.id))


def flashes(page) -> list[str]:
    return re.findall(r'<p class="flash[^"]*">([^<]+)</p>', page.get_data(as_text=True))


@pytest.mark.parametrize("path", PAGES)
def test_every_page_sends_a_stranger_to_the_login(client, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/dashboard/login")


@pytest.mark.parametrize("path", ACTIONS)
def test_every_action_sends_a_stranger_to_the_login_and_changes_nothing(
    client, db, work, path
):
    urgent_ticket(db, work)
    review_case(db)
    make_lead(db)

    response = client.post(path, data={"reason": "x", "assignee": "1"})

    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard/login"
    assert count(db, AuditEvent) == count(db, Acknowledgement) == 0


def test_the_login_page_returns_to_the_page_asked_for(client, db):
    make_lead(db)
    first = client.get(TICKET_PAGE)
    login_page = client.get(first.headers["Location"])
    token = csrf_of(login_page)

    response = client.post(
        "/dashboard/login",
        data={
            "email": "ANN@desk.example",
            "password": PASSWORD,
            "csrf_token": token,
            "next": TICKET_PAGE,
        },
    )

    assert response.status_code == 303
    assert response.headers["Location"] == TICKET_PAGE


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/api/tickets/1",
        "/dashboard/../..//evil.example",
        "/dashboardx",
    ],
)
def test_login_never_sends_a_lead_off_the_dashboard(client, db, target):
    make_lead(db)
    token = csrf_of(client.get("/dashboard/login"))

    response = client.post(
        "/dashboard/login",
        data={
            "email": "ann@desk.example",
            "password": PASSWORD,
            "csrf_token": token,
            "next": target,
        },
    )

    assert response.headers["Location"] == "/dashboard/"


@pytest.mark.parametrize(
    ("email", "password"),
    [("ann@desk.example", "wrong password!"), ("nobody@desk.example", PASSWORD)],
    ids=["wrong-password", "unknown-email"],
)
def test_a_wrong_login_is_refused_alike_and_starts_no_session(
    client, db, email, password
):
    make_lead(db)

    response = log_in(client, email, password)

    assert response.status_code == 401
    assert "do not match a lead" in response.get_data(as_text=True)
    assert client.get("/dashboard/").status_code == 302


def test_a_deactivated_lead_is_logged_out(client, db):
    lead = make_lead(db)
    log_in(client)
    with db.transaction() as session:
        session.get(Lead, lead.id).active = False

    assert client.get("/dashboard/").status_code == 302


def test_login_without_the_csrf_token_is_refused(client, db):
    make_lead(db)
    client.get("/dashboard/login")

    response = client.post(
        "/dashboard/login", data={"email": "ann@desk.example", "password": PASSWORD}
    )

    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)
    assert client.get("/dashboard/").status_code == 302


def test_passwords_are_stored_hashed_with_scrypt(db):
    with db.transaction() as session:
        lead = create_lead(session, "ann@desk.example", "Ann", PASSWORD)
        assert authenticate(session, "ann@desk.example", PASSWORD) is lead

    assert lead.password_hash.startswith("scrypt:32768:8:1$")
    assert PASSWORD not in lead.password_hash


def test_the_session_cookie_is_httponly_and_samesite(client, db):
    make_lead(db)

    cookie = log_in(client).headers["Set-Cookie"]

    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http on a laptop: make run


def test_the_session_cookie_is_secure_behind_https(make_app):
    app = make_app(PUBLIC_BASE_URL="https://escalations.desk.example")
    make_lead(app.extensions["escalation.db"])

    cookie = log_in(app.test_client()).headers["Set-Cookie"]

    assert "; Secure" in cookie


def test_logout_ends_the_session(client, db):
    make_lead(db)
    log_in(client)
    assert client.get("/dashboard/").status_code == 200

    response = post_action(client, "/dashboard/logout", "/dashboard/")

    assert response.status_code == 303
    assert client.get("/dashboard/").status_code == 302


@pytest.mark.parametrize(
    ("path", "form", "token"),
    [
        ("/dashboard/tickets/48213/acknowledge", {}, None),
        ("/dashboard/tickets/48213/acknowledge", {}, "forged-token"),
        ("/dashboard/tickets/48213/assign", {"assignee": "1"}, "forged-token"),
        ("/dashboard/reviews/1/confirm", {"reason": "customer called"}, None),
        ("/dashboard/reviews/1/decline", {"reason": "not ours"}, "forged-token"),
    ],
    ids=[
        "acknowledge-missing",
        "acknowledge-wrong",
        "assign-wrong",
        "confirm-missing",
        "decline-wrong",
    ],
)
def test_an_action_without_the_right_csrf_token_is_refused(
    client, db, work, token, path, form
):
    urgent_ticket(db, work)
    review_id = review_case(db)
    make_lead(db)
    log_in(client)
    escalations = count(db, Escalation)
    if token is not None:
        form = {**form, "csrf_token": token}

    response = client.post(path.replace("/1/", f"/{review_id}/"), data=form)

    assert response.status_code == 400
    assert count(db, AuditEvent) == count(db, Acknowledgement) == 0
    assert count(db, Escalation) == escalations
    with db.sessions() as session:
        assert session.get(Review, review_id).resolved_at is None


def test_acknowledging_records_who_and_carries_it_to_the_portal(client, db, work):
    urgent_ticket(db, work)
    lead = make_lead(db)
    log_in(client)

    response = post_action(
        client, "/dashboard/tickets/48213/acknowledge", "/dashboard/"
    )

    assert response.status_code == 303
    with db.sessions() as session:
        event = session.scalar(select(AuditEvent))
        escalation = session.scalar(select(Escalation))
        entry = session.scalar(
            select(OutboxEntry).where(OutboxEntry.task == "portal_action")
        )
        assert (event.action, event.lead_id, event.escalation_id) == (
            "acknowledge",
            lead.id,
            escalation.id,
        )
        assert entry.args == [event.id]
    queue = client.get("/dashboard/").get_data(as_text=True)
    assert "Acknowledged by Ann Lead" in queue
    assert "Ticket 48213 acknowledged." in queue


def test_a_ticket_is_acknowledged_once(client, db, work):
    urgent_ticket(db, work)
    make_lead(db)
    log_in(client)
    post_action(client, "/dashboard/tickets/48213/acknowledge", TICKET_PAGE)

    second = post_action(client, "/dashboard/tickets/48213/acknowledge", TICKET_PAGE)

    page = client.get(second.headers["Location"])
    assert "already acknowledged by Ann Lead" in page.get_data(as_text=True)
    assert count(db, AuditEvent) == count(db, Acknowledgement) == 1


def test_only_an_urgent_ticket_can_be_acknowledged(client, db):
    make_ticket(db, NOW, urgency="Medium")
    make_lead(db)
    log_in(client)

    response = post_action(client, "/dashboard/tickets/48213/acknowledge", TICKET_PAGE)

    assert flashes(client.get(response.headers["Location"])) == [
        "Ticket 48213 is not Urgent; only an Urgent ticket can be acknowledged."
    ]
    assert count(db, AuditEvent) == 0


def test_assigning_records_the_assignee_and_shows_it(client, db, work):
    urgent_ticket(db, work)
    make_lead(db)
    bob = make_lead(db, "bob@desk.example", "Bob Lead")
    log_in(client)

    post_action(
        client,
        "/dashboard/tickets/48213/assign",
        TICKET_PAGE,
        assignee=str(bob.id),
        reason="knows the ERP link",
    )

    with db.sessions() as session:
        event = session.scalar(select(AuditEvent))
        assert (event.action, event.assignee_id, event.reason) == (
            "assign",
            bob.id,
            "knows the ERP link",
        )
    assert "Assigned to Bob Lead." in client.get("/dashboard/").get_data(as_text=True)


def test_declining_needs_a_reason(client, db):
    review_id = review_case(db)
    make_lead(db)
    log_in(client)
    page = f"/dashboard/reviews/{review_id}"

    response = post_action(client, f"{page}/decline", page, reason="   ")

    assert flashes(client.get(response.headers["Location"])) == [
        "Give a reason: it goes into the audit trail."
    ]
    assert count(db, AuditEvent) == 0


def test_declining_closes_the_case_with_the_reason_in_the_trail(client, db):
    review_id = review_case(db)
    lead = make_lead(db)
    log_in(client)
    page = f"/dashboard/reviews/{review_id}"

    post_action(client, f"{page}/decline", page, reason="colleague, not urgent")

    with db.sessions() as session:
        review = session.get(Review, review_id)
        event = session.scalar(select(AuditEvent))
        assert (review.resolution, review.resolved_at is not None) == ("declined", True)
        assert (event.action, event.lead_id, event.reason, event.review_id) == (
            "decline",
            lead.id,
            "colleague, not urgent",
            review_id,
        )
        assert session.scalar(
            select(OutboxEntry.args).where(OutboxEntry.task == "portal_action")
        ) == [event.id]
    trail = client.get(TICKET_PAGE).get_data(as_text=True)
    assert "Why: colleague, not urgent" in trail
    assert 'Needs review <span class="count">0</span>' in client.get(
        "/dashboard/queue"
    ).get_data(as_text=True)


def test_confirming_a_case_makes_the_ticket_urgent_on_the_leads_word(client, db, work):
    review_id = review_case(db)
    lead = make_lead(db)
    log_in(client)
    page = f"/dashboard/reviews/{review_id}"

    post_action(client, f"{page}/confirm", page, reason="customer verified by mail")

    with db.sessions() as session:
        escalation = session.scalar(select(Escalation))
        assert (escalation.outcome, escalation.tied_by) == ("confirmed_by_lead", "lead")
        assert escalation.inputs["reason"] == "customer verified by mail"
        assert escalation.inputs["lead"]["email"] == lead.email
        assert session.get(Review, review_id).resolution == "confirmed"
        event_id = session.scalar(select(AuditEvent.id))
        work_for_others = session.execute(
            select(OutboxEntry.task, OutboxEntry.args)
            .where(OutboxEntry.task.not_like("evaluate_%"))
            .order_by(OutboxEntry.id)
        ).all()
    assert [tuple(row) for row in work_for_others] == [
        ("notify", ["review", review_id]),
        ("push_escalation", [escalation.id]),
        ("notify", ["escalation", escalation.id]),
        ("portal_action", [event_id]),
    ]
    body = get_ticket(client, 48213).json
    assert (body["escalation"]["state"], body["effective_priority"]) == (
        "confirmed",
        "urgent",
    )
    work()
    with db.sessions() as session:  # no portal configured in this test
        written = session.execute(select(PortalWrite.kind, PortalWrite.state)).all()
    assert sorted(tuple(row) for row in written) == [
        ("action", "skipped"),
        ("confirmed", "skipped"),
    ]


def test_confirming_after_the_rule_escalated_keeps_one_escalation(client, db, work):
    urgent_ticket(db, work)
    review_id = review_case(db)
    make_lead(db)
    log_in(client)
    page = f"/dashboard/reviews/{review_id}"

    post_action(client, f"{page}/confirm", page, reason="caller is the requester")

    assert count(db, Escalation) == 1
    with db.sessions() as session:
        event = session.scalar(select(AuditEvent))
        assert event.detail["new_escalation"] is False


def test_a_ticket_whose_matrix_is_not_urgent_cannot_be_confirmed(client, db):
    ticket = make_ticket(db, NOW, urgency="Medium", customer_priority="Urgent")
    call = make_call(db, MOBILE, at=NOW)
    with db.transaction() as session:
        open_review(
            session,
            Reason.CUSTOMER_URGENT_MATRIX_LOWER,
            call=session.merge(call),
            ticket=session.merge(ticket),
        )
        review_id = session.scalar(select(Review.id))
    make_lead(db)
    log_in(client)
    page = f"/dashboard/reviews/{review_id}"

    response = post_action(client, f"{page}/confirm", page, reason="they insist")

    [message] = flashes(client.get(response.headers["Location"]))
    assert message.startswith("Ticket 48213 is not an open ticket with high impact")
    assert count(db, Escalation) == count(db, AuditEvent) == 0


def test_the_ticket_page_shows_the_case_and_only_there_the_full_number(
    client, db, work
):
    urgent_ticket(db, work)
    make_lead(db)
    log_in(client)
    post_action(client, "/dashboard/tickets/48213/acknowledge", TICKET_PAGE)

    page = client.get(TICKET_PAGE).get_data(as_text=True)

    assert '<a class="tel" href="tel:+31612345678">+31612345678</a>' in page
    assert page.count(MOBILE) == 2  # the call-back link and its text
    assert '<td class="mine"><strong>Urgent</strong>' in page
    assert "<dt>Tied by</dt><dd>caller_id:requester</dd>" in page
    assert "Confirming call" in page
    assert "<strong>Acknowledged</strong> by Ann Lead" in page
    assert "Times are in Europe/Amsterdam." in page
    queue = client.get("/dashboard/").get_data(as_text=True)
    assert MOBILE not in queue
    assert "+31******678" in queue


def test_times_are_shown_in_amsterdam(client, db, work):
    make_ticket(db, datetime(2026, 7, 1, 10, 0, tzinfo=UTC))
    make_lead(db)
    log_in(client)

    page = client.get(TICKET_PAGE).get_data(as_text=True)

    assert '<time datetime="2026-07-01T12:00:00+02:00">01-07-2026 12:00</time>' in page


def test_pages_carry_security_headers(client, db):
    make_lead(db)
    log_in(client)

    response = client.get("/dashboard/")

    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"


def test_create_lead_asks_for_the_password_twice_and_hides_it(app, db):
    runner = app.test_cli_runner()

    result = runner.invoke(
        args=["create-lead", "Carla@Desk.example", "--name", "Carla"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )

    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    assert re.search(r"lead \d+ created: carla@desk.example", result.output)
    assert log_in(app.test_client(), "carla@desk.example").status_code == 303


def test_create_lead_refuses_a_short_password(app, db):
    result = app.test_cli_runner().invoke(
        args=["create-lead", "d@desk.example", "--name", "D"],
        input="short\nshort\n",
    )

    assert result.exit_code == 1
    assert "give at least 12" in result.output
    assert count(db, Lead) == 0


def test_create_lead_takes_an_on_duty_phone(app, db):
    result = app.test_cli_runner().invoke(
        args=[
            "create-lead",
            "e@desk.example",
            "--name",
            "E",
            "--on-duty-phone",
            "06 12 34 56 78",
        ],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )

    assert result.exit_code == 0, result.output
    with db.sessions() as session:
        assert session.scalar(select(Lead.on_duty_phone)) == MOBILE


def test_a_case_about_several_tickets_needs_the_ticket_chosen(db, work):
    for portal_id in (101, 102):
        make_ticket(db, NOW - timedelta(minutes=5), portal_id=portal_id)
    make_call(db, MOBILE, at=NOW)
    work()
    lead = make_lead(db)

    with db.transaction() as session:
        review = session.scalar(select(Review))
        assert review.reason == Reason.SEVERAL_URGENT_REQUESTS
        with pytest.raises(ActionRefused, match="about tickets 101, 102"):
            confirm_review(session, session.merge(lead), review, "called", 60)
        confirm_review(session, session.merge(lead), review, "called", 60, 102)

    with db.sessions() as session:
        escalation = session.scalar(select(Escalation))
        assert escalation.ticket.portal_id == 102
        assert escalation.outcome == "confirmed_by_lead"
