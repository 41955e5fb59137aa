"""The phone directory: contacts and company lines the portal does not hold.

A CSV file whose first line is the header ``email,name,company,phone,mobile``
(comma or semicolon separated, UTF-8). A row with an e-mail is a contact; a
row with a company and a number but no e-mail is one of the company's own
lines (reception, on-call phone), which ties a call to any open ticket of
the company. Every number must be valid as typed; a national number is read
for DEFAULT_REGION, and one that is not valid is rejected with the reason,
never forced into that region.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from escalation import outbox
from escalation.db import Database, insert_or_ignore, utcnow
from escalation.errors import InvalidDirectory
from escalation.models import Company, CompanyPhone, Contact
from escalation.phones import mask, to_e164
from escalation.rule import open_tickets_for_number

logger = logging.getLogger(__name__)

COLUMNS = ("email", "name", "company", "phone", "mobile")
NUMBER_COLUMNS = ("phone", "mobile")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Row:
    line: int
    email: str | None
    name: str | None
    company: str | None
    # Column name -> (as typed, E.164), for the numbers the row gives.
    numbers: dict[str, tuple[str, str]]


@dataclass(frozen=True)
class Rejected:
    line: int
    reason: str


@dataclass
class Report:
    contacts: int = 0
    company_lines: int = 0
    rejected: list[Rejected] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return self.contacts + self.company_lines


def import_directory(database: Database, text: str, region: str) -> Report:
    """Validate every row, then store the good ones in one transaction."""
    report = Report()
    rows = []
    for row in read_rows(text, region):
        if isinstance(row, Rejected):
            report.rejected.append(row)
        else:
            rows.append(row)

    numbers: set[str] = set()
    with database.transaction() as session:
        for row in rows:
            reason = _store(session, row, report)
            if reason is not None:
                report.rejected.append(Rejected(row.line, reason))
            else:
                numbers.update(e164 for _, e164 in row.numbers.values())
        _evaluate_tickets_of(session, numbers)

    report.rejected.sort(key=lambda rejected: rejected.line)
    logger.info(
        "directory imported contacts=%s company_lines=%s rejected=%s",
        report.contacts,
        report.company_lines,
        len(report.rejected),
    )
    return report


def read_rows(text: str, region: str) -> list[Row | Rejected]:
    """Each data row, checked on its own; InvalidDirectory for a bad header."""
    text = text.removeprefix("\ufeff")
    first = text.split("\n", 1)[0]
    delimiter = ";" if ";" in first and "," not in first else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    _check_header(reader.fieldnames)

    rows: list[Row | Rejected] = []
    seen: dict[str, int] = {}
    for record in reader:
        if not any((value or "").strip() for value in record.values()):
            continue
        row = _row(reader.line_num, record, region)
        if isinstance(row, Row) and row.email is not None:
            if row.email in seen:
                reason = f"e-mail {row.email} is also on line {seen[row.email]}"
                row = Rejected(row.line, reason)
            else:
                seen[row.email] = row.line
        rows.append(row)
    return rows


def _check_header(names: list[str] | None) -> None:
    given = [name.strip().lower() for name in names or []]
    missing = [name for name in COLUMNS if name not in given]
    unknown = [name for name in given if name not in COLUMNS]
    if missing or unknown:
        raise InvalidDirectory(
            f"the first line must be the header {','.join(COLUMNS)}; "
            f"missing: {', '.join(missing) or 'none'}, "
            f"unknown: {', '.join(unknown) or 'none'}"
        )


def _row(line: int, record: dict[str, str | None], region: str) -> Row | Rejected:
    cells = {
        (key or "").strip().lower(): (value or "").strip()
        for key, value in record.items()
    }
    email = cells.get("email", "").lower() or None
    company = cells.get("company") or None
    if email is not None and not EMAIL.match(email):
        return Rejected(line, f"e-mail {email!r} is not an e-mail address")
    if email is None and company is None:
        return Rejected(
            line, "give an e-mail (a contact) or a company (a company line)"
        )

    numbers = {}
    for column in NUMBER_COLUMNS:
        raw = cells.get(column, "")
        if not raw:
            continue
        e164 = to_e164(raw, region)
        if e164 is None:
            return Rejected(
                line,
                f"{column} {raw!r} is not a valid phone number for region "
                f"{region}; give a number from elsewhere with its country code, "
                "e.g. +32 2 555 12 12",
            )
        numbers[column] = (raw, e164)
    if not numbers:
        return Rejected(line, "give at least one phone number (phone or mobile)")
    return Row(line, email, cells.get("name") or None, company, numbers)


def _store(session: Session, row: Row, report: Report) -> str | None:
    """Store the row; the reason when it cannot be."""
    company_id = _company_id(session, row.company)
    if row.email is None:
        assert company_id is not None
        for raw, e164 in row.numbers.values():
            _store_line(session, company_id, row.name, raw, e164)
        report.company_lines += 1
        return None

    contact = session.scalar(
        select(Contact).where(Contact.email == row.email).with_for_update()
    )
    if contact is not None and contact.portal_updated_at is not None:
        return (
            f"the portal holds contact {row.email}; change its numbers there "
            "(the portal's data wins)"
        )
    if contact is None:
        contact = Contact(email=row.email)
        session.add(contact)
    phone, mobile = row.numbers.get("phone"), row.numbers.get("mobile")
    contact.name = row.name
    contact.company_id = company_id
    contact.phone_raw, contact.phone_e164 = phone or (None, None)
    contact.mobile_raw, contact.mobile_e164 = mobile or (None, None)
    session.flush()
    report.contacts += 1
    return None


def _store_line(
    session: Session, company_id: int, label: str | None, raw: str, e164: str
) -> None:
    line = session.scalar(
        select(CompanyPhone).where(
            CompanyPhone.company_id == company_id, CompanyPhone.phone_e164 == e164
        )
    )
    if line is None:
        line = CompanyPhone(company_id=company_id, phone_e164=e164)
        session.add(line)
    line.label = label
    line.phone_raw = raw
    line.imported_at = utcnow()
    session.flush()
    logger.debug("company line stored company=%s number=%s", company_id, mask(e164))


def _company_id(session: Session, name: str | None) -> int | None:
    if name is None:
        return None
    insert_or_ignore(session, Company, {"name": name}, "name")
    return session.scalar(select(Company.id).where(Company.name == name))


def _evaluate_tickets_of(session: Session, numbers: set[str]) -> None:
    """New numbers may tie calls already kept as evidence: look again."""
    tickets = {
        ticket.id
        for number in numbers
        for ticket in open_tickets_for_number(session, number)
    }
    for ticket_id in sorted(tickets):
        outbox.add(session, "evaluate_ticket", ticket_id)
