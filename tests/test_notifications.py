"""Alerts to the leads: Twilio SMS, e-mail and chat, each once per event.

Every channel talks to a server the test started on loopback; the SMS is
checked as the exact REST request Twilio would receive.
"""

from __future__ import annotations

import base64
import urllib.error
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import pytest
from sqlalchemy import select

import jobs
from escalation import outbox
from escalation.config import Settings
from escalation.errors import ConfigError
from escalation.models import Escalation, Notification, OutboxEntry, Review
from jobs.notify import TWILIO_HTTP_EXTENSION
from tests.conftest import run_jobs
from tests.dashboard_helpers import make_lead
from tests.factories import make_call, make_ticket
from tests.helpers import API_TOKEN, PORTAL_SECRET, SECRET_KEY, TWILIO_TOKEN
from tests.notify_servers import (
    HttpServer,
    LoopbackTwilioHttp,
    http_server,
    smtp_server,
    twilio_message_answer,
)

MOBILE = "+31612345678"  # the fixture requester's mobile
SID = "AC" + "1a" * 16
SMS_FROM = "+31687654321"
BASE_URL = "https://escalations.desk.example"
TICKET_LINK = f"{BASE_URL}/dashboard/tickets/48213"
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def smtp():
    with smtp_server() as server:
        yield server


@pytest.fixture
def chat():
    with http_server() as server:
        yield server


@pytest.fixture
def twilio():
    with http_server(HttpServer(answer=twilio_message_answer())) as server:
        yield server


def channel_settings(smtp=None, chat=None, twilio=None) -> dict[str, str]:
    values = {"PUBLIC_BASE_URL": BASE_URL}
    if twilio is not None:
        values |= {
            "TWILIO_ACCOUNT_SID": SID,
            "SMS_FROM": SMS_FROM,
            "LEADS_ON_DUTY_SMS": "+31611111111, +31622222222",
        }
    if smtp is not None:
        values |= {
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(smtp.port),
            "SMTP_SECURITY": "none",
            "SMTP_FROM": "escalations@desk.example",
            "NOTIFY_EMAIL_TO": "leads@desk.example,oncall@desk.example",
        }
    if chat is not None:
        values["CHAT_WEBHOOK_URL"] = f"http://127.0.0.1:{chat.port}/hooks/chat"
    return values


def build(make_app, twilio=None, **servers):
    app = make_app(**channel_settings(twilio=twilio, **servers))
    if twilio is not None:
        app.extensions[TWILIO_HTTP_EXTENSION] = LoopbackTwilioHttp(twilio.port)
    return app, app.extensions["escalation.db"]


def escalate(db) -> None:
    make_ticket(db, NOW - timedelta(minutes=5))
    make_call(db, MOBILE, at=NOW)


def notifications(db) -> list[Notification]:
    with db.sessions() as session:
        return list(session.scalars(select(Notification).order_by(Notification.id)))


def test_a_new_urgent_ticket_alerts_every_channel_and_recipient(
    make_app, smtp, chat, twilio
):
    app, db = build(make_app, smtp=smtp, chat=chat, twilio=twilio)
    make_lead(db, on_duty_phone="+31633333333")
    make_lead(db, "bob@desk.example", "Bob", on_duty_phone="06 11 11 11 11")
    escalate(db)

    assert run_jobs(app) == 0

    auth = base64.b64encode(f"{SID}:{TWILIO_TOKEN}".encode()).decode()
    sms = [(r.method, r.path, r.headers["authorization"]) for r in twilio.received]
    assert (
        sms
        == [("POST", f"/2010-04-01/Accounts/{SID}/Messages.json", f"Basic {auth}")] * 3
    )
    forms = [parse_qs(r.body.decode()) for r in twilio.received]
    assert sorted(form["To"][0] for form in forms) == [
        "+31611111111",
        "+31622222222",
        "+31633333333",
    ]
    expected_body = f"URGENT ticket 48213: Orderflow naar ERP staat stil. {TICKET_LINK}"
    assert {(form["From"][0], form["Body"][0]) for form in forms} == {
        (SMS_FROM, expected_body)
    }

    assert sorted(mail.recipients[0] for mail in smtp.received) == [
        "leads@desk.example",
        "oncall@desk.example",
    ]
    mail = smtp.received[0].message
    assert mail["Subject"] == "Urgent: ticket 48213"
    assert mail["From"] == "escalations@desk.example"
    text = mail.get_content()
    assert "Confirmed by a call from +31******678" in text
    assert TICKET_LINK in text

    [post] = chat.received
    assert post.path == "/hooks/chat"
    assert post.headers["content-type"] == "application/json"
    assert post.json()["text"].splitlines()[0] == (
        "Ticket 48213 is Urgent: Orderflow naar ERP staat stil"
    )
    assert TICKET_LINK in post.json()["text"]

    everything = [text, post.json()["text"], *(f["Body"][0] for f in forms)]
    assert not any(MOBILE in message for message in everything)
    assert {n.status for n in notifications(db)} == {"sent"}
    assert len(notifications(db)) == 6


def test_the_same_event_again_sends_nothing_twice(make_app, chat, twilio):
    app, db = build(make_app, chat=chat, twilio=twilio)
    escalate(db)
    assert run_jobs(app) == 0
    sent = (len(chat.received), len(twilio.received))

    with db.transaction() as session:
        escalation_id = session.scalar(select(Escalation.id))
        outbox.add(session, "notify", "escalation", escalation_id)
    assert run_jobs(app) == 0

    assert (len(chat.received), len(twilio.received)) == sent == (1, 2)
    assert len(notifications(db)) == 3


def test_a_failed_send_is_retried_and_delivered_once(make_app, chat, twilio):
    chat.statuses = [500]
    app, db = build(make_app, chat=chat, twilio=twilio)
    escalate(db)
    run_jobs(app)
    [chat_alert] = [n for n in notifications(db) if n.channel == "chat"]
    assert chat_alert.status == "pending"
    assert {n.status for n in notifications(db) if n.channel == "sms"} == {"sent"}

    entry_id = _send_entry(db, chat_alert.id)
    jobs.bind_app(app)
    assert jobs.run_outbox_entry(entry_id) == "done"
    assert jobs.run_outbox_entry(entry_id) == "already done"

    assert len(chat.received) == 2  # the refused post and the retry
    assert len(twilio.received) == 2  # each SMS once, whatever chat did
    assert {n.status for n in notifications(db)} == {"sent"}


def test_a_failing_channel_raises_so_the_queue_retries(make_app, chat):
    chat.statuses = [502]
    app, db = build(make_app, chat=chat)
    escalate(db)
    run_jobs(app)
    [alert] = notifications(db)
    chat.statuses = [502]
    jobs.bind_app(app)

    with pytest.raises(urllib.error.HTTPError):
        jobs.run_outbox_entry(_send_entry(db, alert.id))

    with db.sessions() as session:
        entry = session.get(OutboxEntry, _send_entry(db, alert.id))
        assert entry.done_at is None
    assert notifications(db)[0].status == "pending"


def test_a_case_for_review_alerts_with_its_reason_and_link(make_app, chat):
    app, db = build(make_app, chat=chat)
    make_ticket(db, NOW - timedelta(hours=3))
    make_call(db, MOBILE, at=NOW)
    assert run_jobs(app) == 0

    with db.sessions() as session:
        review = session.scalar(select(Review))
    [post] = chat.received
    assert post.json()["text"].splitlines() == [
        "A case needs a lead's decision (ticket 48213): Call after the window closed.",
        "Caller: +31******678.",
        f"Decide here: {BASE_URL}/dashboard/reviews/{review.id}",
    ]


def test_without_channels_no_alert_is_planned(app, db, work):
    escalate(db)
    work()

    assert notifications(db) == []
    with db.sessions() as session:
        pending = session.scalars(
            select(OutboxEntry.task).where(OutboxEntry.done_at.is_(None))
        ).all()
    assert "notify" not in pending


BASE = {
    "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
    "PORTAL_WEBHOOK_SECRET": PORTAL_SECRET,
    "API_TOKEN": API_TOKEN,
    "SECRET_KEY": SECRET_KEY,
}


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"LEADS_ON_DUTY_SMS": "+31611111111"}, "TWILIO_ACCOUNT_SID is not"),
        ({"TWILIO_ACCOUNT_SID": SID}, "SMS_FROM is not"),
        ({"TWILIO_ACCOUNT_SID": "AC123"}, "AC followed by 32 hexadecimal"),
        (
            {
                "TWILIO_ACCOUNT_SID": SID,
                "SMS_FROM": SMS_FROM,
                "LEADS_ON_DUTY_SMS": "06",
            },
            "LEADS_ON_DUTY_SMS holds '06'",
        ),
        ({"SMTP_HOST": "smtp.desk.example"}, "SMTP_FROM is not"),
        ({"NOTIFY_EMAIL_TO": "leads@desk.example"}, "SMTP_HOST is not"),
        (
            {"SMTP_HOST": "h", "SMTP_FROM": "a@b.c", "NOTIFY_EMAIL_TO": "leads"},
            "NOTIFY_EMAIL_TO holds 'leads'",
        ),
        ({"SMTP_SECURITY": "tls"}, "allowed values are starttls, ssl, none"),
        ({"CHAT_WEBHOOK_URL": "http://chat.desk.example/hook"}, "https://"),
    ],
)
def test_notification_settings_name_the_bad_value(values, message):
    with pytest.raises(ConfigError, match=message):
        Settings.load(BASE | values, ".")


def test_secrets_are_not_in_the_settings_repr():
    settings = Settings.load(
        BASE
        | {
            "SMTP_HOST": "h",
            "SMTP_FROM": "a@b.c",
            "SMTP_PASSWORD": "smtp-password-value",
            "CHAT_WEBHOOK_URL": "https://chat.desk.example/hook/secret-part",
        },
        ".",
    )
    shown = repr(settings)
    assert "smtp-password-value" not in shown
    assert "secret-part" not in shown
    assert SECRET_KEY not in shown


def _send_entry(db, notification_id: int) -> int:
    with db.sessions() as session:
        entries = session.scalars(
            select(OutboxEntry).where(OutboxEntry.task == "notify_send")
        ).all()
    [entry] = [e for e in entries if e.args == [notification_id]]
    return entry.id
