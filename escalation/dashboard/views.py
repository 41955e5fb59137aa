"""The leads' dashboard: the live queue, ticket and review pages, actions.

Every route needs a logged-in lead, and every POST the session's CSRF
token; both are checked before a view runs. Actions commit their audit
event and outbox entry together, then redirect (POST, redirect, GET).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import click
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.blueprints import BlueprintSetupState
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from escalation import lead_actions
from escalation.config import get_settings
from escalation.dashboard.pages import find_ticket, review_page, ticket_page
from escalation.dashboard.present import register_filters
from escalation.dashboard.security import (
    check_csrf,
    configure_sessions,
    csrf_token,
    current_lead,
    log_in,
    log_out,
    safe_next,
)
from escalation.db import get_session, utcnow
from escalation.lead_actions import ActionRefused, Done
from escalation.leads import LeadError, authenticate, create_lead
from escalation.models import Lead, Review, Ticket
from escalation.queue_view import Queue, load_queue

logger = logging.getLogger(__name__)

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard", cli_group=None)

PUBLIC_ENDPOINTS = frozenset({"dashboard.login"})
# How often the queue page asks for fresh lists.
REFRESH_SECONDS = 2
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        "img-src 'self'; frame-ancestors 'none'; form-action 'self'; "
        "base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@bp.record_once
def _set_up(state: BlueprintSetupState) -> None:
    configure_sessions(state.app)
    register_filters(state.app)
    state.app.add_template_global(csrf_token)


@bp.before_request
def require_login() -> Response | None:
    """Send anyone not logged in to the login page; check every POST's token."""
    if request.endpoint not in PUBLIC_ENDPOINTS and _lead() is None:
        target = None
        if request.method == "GET" and request.endpoint != "dashboard.queue_lists":
            target = request.full_path.rstrip("?")
        return redirect(url_for("dashboard.login", next=target))
    if request.method == "POST":
        check_csrf()
    return None


@bp.after_request
def security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


@bp.context_processor
def template_values() -> dict[str, object]:
    return {
        "lead": g.get("lead"),
        "refresh_seconds": REFRESH_SECONDS,
        "zone_name": get_settings().display_timezone.key,
    }


@bp.errorhandler(HTTPException)
def error_page(error: HTTPException) -> tuple[str, int]:
    code = error.code or 500
    return render_template("dashboard/error.html", error=error, code=code), code


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    default = url_for("dashboard.queue")
    target = safe_next(request.values.get("next"), default)
    if request.method == "GET":
        if _lead() is not None:
            return redirect(target)
        return render_template("dashboard/login.html", next=target)

    lead = authenticate(
        get_session(), request.form.get("email", ""), request.form.get("password", "")
    )
    if lead is None:
        logger.warning("login refused remote=%s", request.remote_addr)
        message = "That e-mail address and password do not match a lead."
        page = render_template(
            "dashboard/login.html",
            next=target,
            error=message,
            email=request.form.get("email", ""),
        )
        return page, 401
    log_in(lead)
    return redirect(target, 303)


@bp.post("/logout")
def logout() -> Response:
    log_out()
    flash("You are logged out.", "success")
    return redirect(url_for("dashboard.login"), 303)


@bp.get("/")
def queue() -> str:
    return render_template("dashboard/queue.html", queue=_queue())


@bp.get("/queue")
def queue_lists() -> str:
    """The queue's lists alone, for the page to poll and swap in."""
    return render_template("dashboard/_queue.html", queue=_queue())


@bp.get("/tickets/<int:portal_id>")
def ticket(portal_id: int) -> str:
    page = ticket_page(
        get_session(), _ticket(portal_id), get_settings().window_minutes, utcnow()
    )
    return render_template("dashboard/ticket.html", page=page, now=utcnow())


@bp.get("/reviews/<int:review_id>")
def review(review_id: int) -> str:
    page = review_page(get_session(), _review(review_id))
    return render_template("dashboard/review.html", page=page)


@bp.post("/tickets/<int:portal_id>/acknowledge")
def acknowledge(portal_id: int) -> Response:
    ticket = _ticket(portal_id)
    return _act(
        lambda lead: lead_actions.acknowledge(get_session(), lead, ticket),
        f"Ticket {portal_id} acknowledged.",
        url_for("dashboard.ticket", portal_id=portal_id),
    )


@bp.post("/tickets/<int:portal_id>/assign")
def assign(portal_id: int) -> Response:
    ticket = _ticket(portal_id)
    assignee = _assignee(request.form.get("assignee", ""))
    return _act(
        lambda lead: lead_actions.assign(
            get_session(), lead, ticket, assignee, request.form.get("reason", "")
        ),
        f"Ticket {portal_id} assigned to {assignee.name}.",
        url_for("dashboard.ticket", portal_id=portal_id),
    )


@bp.post("/reviews/<int:review_id>/confirm")
def confirm(review_id: int) -> Response:
    review = _review(review_id)
    chosen = request.form.get("ticket", "")
    return _act(
        lambda lead: lead_actions.confirm_review(
            get_session(),
            lead,
            review,
            request.form.get("reason", ""),
            get_settings().window_minutes,
            int(chosen) if chosen.isdigit() else None,
        ),
        f"Review {review_id} confirmed: the ticket is Urgent.",
        url_for("dashboard.review", review_id=review_id),
    )


@bp.post("/reviews/<int:review_id>/decline")
def decline(review_id: int) -> Response:
    review = _review(review_id)
    return _act(
        lambda lead: lead_actions.decline_review(
            get_session(), lead, review, request.form.get("reason", "")
        ),
        f"Review {review_id} declined.",
        url_for("dashboard.review", review_id=review_id),
    )


def _act(action: Callable[[Lead], Done], success: str, page: str) -> Response:
    """Run one lead action, commit it, queue its jobs, and go back."""
    session = get_session()
    lead = _lead()
    assert lead is not None, "require_login lets no anonymous POST through"
    try:
        action(lead)
    except ActionRefused as refused:
        session.rollback()
        flash(str(refused), "error")
    else:
        session.commit()
        flash(success, "success")
    return redirect(safe_next(request.form.get("back"), page), 303)


def _lead() -> Lead | None:
    return current_lead(get_session())


def _queue() -> Queue:
    return load_queue(get_session(), get_settings().window_minutes, utcnow())


def _ticket(portal_id: int) -> Ticket:
    ticket = find_ticket(get_session(), portal_id)
    if ticket is None:
        abort(404, description=f"No ticket {portal_id} is known to the service.")
    return ticket


def _review(review_id: int) -> Review:
    review = get_session().get(Review, review_id)
    if review is None:
        abort(404, description=f"There is no review case {review_id}.")
    return review


def _assignee(raw: str) -> Lead:
    assignee = get_session().get(Lead, int(raw)) if raw.isdigit() else None
    if assignee is None:
        abort(400, description="Choose a lead from the list to assign the ticket to.")
    return assignee


@bp.cli.command("create-lead")
@click.argument("email")
@click.option("--name", required=True, help="The lead's name as leads see it.")
@click.option(
    "--on-duty-phone",
    default=None,
    help="Number for SMS alerts while on duty, e.g. +31612345678.",
)
@click.password_option(help="Prompted for (hidden, twice) when not given.")
def create_lead_command(
    email: str, name: str, on_duty_phone: str | None, password: str
) -> None:
    """Create a support lead who can log in to the dashboard."""
    from escalation.migrate import upgrade

    settings = get_settings()
    upgrade(settings.database_url)
    database = current_app.extensions["escalation.db"]
    try:
        with database.transaction() as session:
            lead = create_lead(
                session,
                email,
                name,
                password,
                on_duty_phone,
                settings.default_region,
            )
            lead_id, address = lead.id, lead.email
    except LeadError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"lead {lead_id} created: {address}; log in at /dashboard/login")
