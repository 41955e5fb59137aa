"""Telling the leads: a new Urgent ticket, or a case that needs a person.

An event becomes one notification row per channel and recipient, each with
its own outbox entry, so every message is sent by its own job and retried
on its own. The row's unique key (event, channel, recipient) keeps a
repeated event from sending anything twice, and a sent row is never sent
again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from twilio.http import HttpClient

from escalation import channels, outbox
from escalation.config import Settings
from escalation.db import utcnow
from escalation.leads import on_duty_phones
from escalation.models import Escalation, Notification, Review
from escalation.phones import mask
from escalation.queue_view import reason_label, review_tickets, ticket_url

logger = logging.getLogger(__name__)

KINDS = ("escalation", "review")
CHAT_RECIPIENT = "webhook"
SUBJECT_IN_SMS = 60


@dataclass(frozen=True)
class Message:
    title: str
    text: str
    sms: str


def targets(session: Session, settings: Settings) -> list[tuple[str, str]]:
    """Every (channel, recipient) an alert goes to, as configured now."""
    notify = settings.notify
    found: list[tuple[str, str]] = []
    if notify.sms_enabled:
        numbers = dict.fromkeys([*notify.sms_to, *on_duty_phones(session)])
        found += [("sms", number) for number in numbers]
    if notify.email_enabled:
        found += [("email", address) for address in notify.email_to]
    if notify.chat_webhook_url:
        found.append(("chat", CHAT_RECIPIENT))
    return found


def plan(session: Session, settings: Settings, kind: str, event_id: int) -> list[int]:
    """Write a notification per target for the event; the new outbox ids."""
    if kind not in KINDS:
        raise ValueError(f"notification kind {kind!r}; expected one of {KINDS}")
    event_key = f"{kind}:{event_id}"
    entry_ids = []
    for channel, recipient in targets(session, settings):
        notification = _claim(session, event_key, channel, recipient)
        if notification is not None:
            entry_ids.append(outbox.add(session, "notify_send", notification.id).id)
    logger.info("notifications planned event=%s new=%s", event_key, len(entry_ids))
    return entry_ids


def _claim(
    session: Session, event_key: str, channel: str, recipient: str
) -> Notification | None:
    notification = Notification(
        event_key=event_key, channel=channel, recipient=recipient, created_at=utcnow()
    )
    try:
        with session.begin_nested():
            session.add(notification)
    except IntegrityError:
        logger.debug("notification exists event=%s channel=%s", event_key, channel)
        return None
    return notification


def send(
    session: Session,
    settings: Settings,
    notification_id: int,
    twilio_http: HttpClient | None = None,
) -> None:
    """Deliver one notification unless it went out already; raise to retry."""
    notification = session.get(Notification, notification_id, with_for_update=True)
    if notification is None or notification.status != "pending":
        return
    message = compose(session, settings, notification.event_key)
    if message is None:
        notification.status = "dropped"
        logger.warning("notification event gone event=%s", notification.event_key)
        return

    try:
        reference = _deliver(settings, notification, message, twilio_http)
    except Exception as exc:
        logger.warning(
            "notification failed, will retry notification=%s channel=%s error=%s",
            notification.id,
            notification.channel,
            exc,
        )
        raise
    if reference is None:
        notification.status = "dropped"
        logger.warning(
            "notification dropped, its channel is no longer configured "
            "notification=%s channel=%s",
            notification.id,
            notification.channel,
        )
        return
    notification.status = "sent"
    notification.sent_at = utcnow()
    notification.provider_ref = reference[:128]
    logger.info(
        "notification sent notification=%s channel=%s event=%s to=%s",
        notification.id,
        notification.channel,
        notification.event_key,
        _shown_recipient(notification),
    )


def _deliver(
    settings: Settings,
    notification: Notification,
    message: Message,
    twilio_http: HttpClient | None,
) -> str | None:
    """Send on the notification's channel; None when that channel is off now."""
    notify = settings.notify
    channel, recipient = notification.channel, notification.recipient
    if channel == "sms" and notify.sms_enabled:
        return channels.send_sms(
            notify, settings.twilio_auth_token, recipient, message.sms, twilio_http
        )
    if channel == "email" and notify.smtp_host:
        return channels.send_email(notify, recipient, message.title, message.text)
    if channel == "chat" and notify.chat_webhook_url:
        return channels.post_chat(
            notify.chat_webhook_url, message.text, notify.timeout_seconds
        )
    return None


def _shown_recipient(notification: Notification) -> str:
    if notification.channel == "sms":
        return mask(notification.recipient)
    return notification.channel


def compose(session: Session, settings: Settings, event_key: str) -> Message | None:
    """The alert's words, from the event as it is stored now."""
    kind, _, raw_id = event_key.partition(":")
    base = settings.public_base_url or ""
    zone = settings.display_timezone
    if kind == "escalation":
        escalation = session.get(Escalation, int(raw_id))
        return _escalation_message(escalation, base, zone) if escalation else None
    review = session.get(Review, int(raw_id))
    return _review_message(review, base) if review else None


def _escalation_message(escalation: Escalation, base: str, zone: ZoneInfo) -> Message:
    ticket, call = escalation.ticket, escalation.call
    caller = mask(call.caller_e164 or call.caller_raw)
    link = ticket_url(base, ticket.portal_id)
    at = escalation.decided_at.astimezone(zone).strftime("%H:%M")
    how = "a lead" if escalation.tied_by == "lead" else f"a call from {caller}"
    title = f"Urgent: ticket {ticket.portal_id}"
    lines = [
        f"Ticket {ticket.portal_id} is Urgent: {ticket.subject}",
        f"Confirmed by {how} at {at}.",
        f"Open it: {link}",
    ]
    sms = f"URGENT ticket {ticket.portal_id}: {_short(ticket.subject)}. {link}"
    return Message(title=title, text="\n".join(lines), sms=sms)


def _review_message(review: Review, base: str) -> Message:
    tickets = ", ".join(str(number) for number in review_tickets(review)) or "none"
    label = reason_label(review.reason)
    link = f"{base}/dashboard/reviews/{review.id}"
    lines = [f"A case needs a lead's decision (ticket {tickets}): {label}."]
    if review.call is not None:
        lines.append(
            f"Caller: {mask(review.call.caller_e164 or review.call.caller_raw)}."
        )
    lines.append(f"Decide here: {link}")
    title = f"Needs review: ticket {tickets}"
    sms = f"Review needed, ticket {tickets}: {label}. {link}"
    return Message(title=title, text="\n".join(lines), sms=sms)


def _short(subject: str) -> str:
    text = " ".join(subject.split())
    if len(text) <= SUBJECT_IN_SMS:
        return text
    return text[: SUBJECT_IN_SMS - 1].rstrip() + "…"
