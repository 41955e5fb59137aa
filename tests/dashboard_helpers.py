"""Leads and their logins, for the dashboard's tests."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash
from werkzeug.test import TestResponse

from escalation.db import Database
from escalation.leads import create_lead
from escalation.models import Lead

PASSWORD = "correct horse battery"
# scrypt at 1/32 of the default work: the same code path, a faster suite.
FAST_SCRYPT = "scrypt:1024:8:1"
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_lead(
    db: Database,
    email: str = "ann@desk.example",
    name: str = "Ann Lead",
    on_duty_phone: str | None = None,
    password: str = PASSWORD,
) -> Lead:
    """A lead whose hash is cheap to check; the service's own cost is the
    default, tested in test_passwords_are_stored_hashed_with_scrypt."""
    with db.transaction() as session:
        lead = create_lead(session, email, name, password, on_duty_phone)
        lead.password_hash = generate_password_hash(password, FAST_SCRYPT)
        return lead


def csrf_of(page: TestResponse) -> str:
    match = CSRF_INPUT.search(page.get_data(as_text=True))
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def log_in(
    client: FlaskClient, email: str = "ann@desk.example", password: str = PASSWORD
) -> TestResponse:
    token = csrf_of(client.get("/dashboard/login"))
    return client.post(
        "/dashboard/login",
        data={"email": email, "password": password, "csrf_token": token},
    )


def post_action(client: FlaskClient, path: str, page: str, **form: str) -> TestResponse:
    """POST as the page's form does, with the token the page carries."""
    token = csrf_of(client.get(page))
    return client.post(path, data={"csrf_token": token, **form})
