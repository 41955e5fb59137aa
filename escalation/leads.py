"""Support leads: who may log in to the dashboard, and who is on duty."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from escalation.errors import EscalationError
from escalation.models import Lead
from escalation.phones import mask, to_e164

logger = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 12
# Checked when the e-mail is unknown, so a wrong address costs as much time
# as a wrong password and timing does not tell which addresses exist.
_UNKNOWN_LEAD_HASH = generate_password_hash("no lead has this password")


class LeadError(EscalationError):
    """A lead cannot be created as asked."""


def normal_email(email: str) -> str:
    return email.strip().lower()


def create_lead(
    session: Session,
    email: str,
    name: str,
    password: str,
    on_duty_phone: str | None = None,
    region: str = "NL",
) -> Lead:
    """Store a new lead with a hashed password; LeadError says what is wrong."""
    address = normal_email(email)
    local, at, domain = address.rpartition("@")
    if not (local and at and domain):
        raise LeadError(f"{email!r} is not an e-mail address; give e.g. ann@desk.nl")
    if find_lead(session, address) is not None:
        raise LeadError(f"a lead with e-mail {address} exists already")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise LeadError(
            f"the password has {len(password)} characters; "
            f"give at least {MIN_PASSWORD_LENGTH}"
        )
    phone = None
    if on_duty_phone:
        phone = to_e164(on_duty_phone, region)
        if phone is None:
            raise LeadError(
                f"{on_duty_phone!r} is not a valid phone number for region "
                f"{region}; give it in E.164, e.g. +31612345678"
            )

    lead = Lead(
        email=address,
        name=name.strip() or address,
        password_hash=generate_password_hash(password),
        on_duty_phone=phone,
    )
    session.add(lead)
    session.flush()
    logger.info("lead created lead=%s on_duty_phone=%s", lead.id, mask(phone))
    return lead


def find_lead(session: Session, email: str) -> Lead | None:
    return session.scalar(
        select(Lead).where(func.lower(Lead.email) == normal_email(email))
    )


def authenticate(session: Session, email: str, password: str) -> Lead | None:
    """The active lead with this e-mail and password, or None."""
    lead = find_lead(session, email)
    if lead is None:
        check_password_hash(_UNKNOWN_LEAD_HASH, password)
        return None
    if not check_password_hash(lead.password_hash, password) or not lead.active:
        return None
    return lead


def active_leads(session: Session) -> Sequence[Lead]:
    return session.scalars(
        select(Lead).where(Lead.active.is_(True)).order_by(Lead.name)
    ).all()


def on_duty_phones(session: Session) -> list[str]:
    return [lead.on_duty_phone for lead in active_leads(session) if lead.on_duty_phone]
