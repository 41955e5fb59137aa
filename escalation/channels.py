"""The three ways an alert leaves the service: Twilio SMS, SMTP, chat webhook.

Each sender either delivers one message to one recipient and returns the
provider's reference for it, or raises; the job that called it retries.
"""

from __future__ import annotations

import json
import smtplib
import ssl
import urllib.request
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from escalation.config import NotifySettings


def send_sms(
    notify: NotifySettings,
    auth_token: str,
    to: str,
    body: str,
    http_client: HttpClient | None = None,
) -> str:
    """Send through Twilio's Messages API; the message SID."""
    assert notify.twilio_account_sid and notify.sms_from
    client = Client(
        notify.twilio_account_sid,
        auth_token,
        http_client=http_client or TwilioHttpClient(timeout=notify.timeout_seconds),
    )
    message = client.messages.create(to=to, from_=notify.sms_from, body=body)
    return str(message.sid)


def send_email(notify: NotifySettings, to: str, subject: str, text: str) -> str:
    """Hand one plain-text message to the SMTP server; its Message-ID."""
    assert notify.smtp_host and notify.smtp_from
    message = EmailMessage()
    message["From"] = notify.smtp_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=notify.smtp_from.rpartition("@")[2])
    message.set_content(text)

    with _smtp(notify) as smtp:
        if notify.smtp_security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        if notify.smtp_user:
            smtp.login(notify.smtp_user, notify.smtp_password)
        smtp.send_message(message)
    return str(message["Message-ID"])


def _smtp(notify: NotifySettings) -> smtplib.SMTP:
    assert notify.smtp_host
    if notify.smtp_security == "ssl":
        return smtplib.SMTP_SSL(
            notify.smtp_host,
            notify.smtp_port,
            timeout=notify.timeout_seconds,
            context=ssl.create_default_context(),
        )
    return smtplib.SMTP(
        notify.smtp_host, notify.smtp_port, timeout=notify.timeout_seconds
    )


def post_chat(url: str, text: str, timeout: float) -> str:
    """POST ``{"text": ...}``, the body Slack and Teams incoming webhooks take.

    Any answer but 2xx raises (urllib's HTTPError); the URL is a secret, so
    it is never part of an error message or log line here.
    """
    request = urllib.request.Request(
        url,
        data=json.dumps({"text": text}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return f"http {response.status}"
