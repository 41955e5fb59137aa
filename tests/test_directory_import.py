"""The phone directory import: contacts and company lines the portal does not
hold, a report of rows accepted and rejected, and calls from company lines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from escalation.models import CompanyPhone, Contact
from tests.factories import make_call, make_ticket
from tests.helpers import get_ticket

NOW = datetime.now(UTC).replace(microsecond=0)
HEADER = "email,name,company,phone,mobile\n"
GOOD_AND_BAD = (
    HEADER
    + "pieter@example.nl,Pieter Bakker,Voorbeeld Logistiek BV,0591-654321,\n"
    + ",Receptie,Voorbeeld Logistiek BV,0591 777 888,\n"
    + "not-an-email,Iemand,,0612345679,\n"
    + "klant@example.be,Jan Peeters,Belgisch BV,+32 2 555 12 12,\n"
    + "fout@example.nl,Fout,,02 555 12 12,\n"
    + "leeg@example.nl,Leeg,,,\n"
    + ",Niemand,,0591 123 123,\n"
    + "pieter@example.nl,Pieter B.,,0612345670,\n"
)


def import_directory(app, tmp_path, text: str, encoding: str = "utf-8"):
    """``flask --app wsgi import-directory FILE``, which runs in an app context."""
    path = tmp_path / "directory.csv"
    path.write_text(text, encoding=encoding)
    with app.app_context():
        return app.test_cli_runner().invoke(args=["import-directory", str(path)])


def contacts(db) -> dict[str, Contact]:
    with db.sessions() as session:
        found = session.scalars(select(Contact).options(joinedload(Contact.company)))
        return {contact.email: contact for contact in found}


def company_lines(db) -> list[tuple[str, str | None, str]]:
    with db.sessions() as session:
        return [
            (line.company.name, line.label, line.phone_e164)
            for line in session.scalars(select(CompanyPhone))
        ]


def test_report_counts_accepted_rows_and_gives_each_rejected_rows_reason(
    app, db, tmp_path
):
    result = import_directory(app, tmp_path, GOOD_AND_BAD)

    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == "accepted 3 rows (2 contacts, 1 company lines)"
    assert lines[1] == "rejected 5 rows"
    assert lines[2:] == [
        "  line 4: e-mail 'not-an-email' is not an e-mail address",
        "  line 6: phone '02 555 12 12' is not a valid phone number for region NL; "
        "give a number from elsewhere with its country code, e.g. +32 2 555 12 12",
        "  line 7: give at least one phone number (phone or mobile)",
        "  line 8: give an e-mail (a contact) or a company (a company line)",
        "  line 9: e-mail pieter@example.nl is also on line 2",
    ]
    assert sorted(contacts(db)) == ["klant@example.be", "pieter@example.nl"]
    assert company_lines(db) == [("Voorbeeld Logistiek BV", "Receptie", "+31591777888")]


def test_a_number_is_never_forced_into_the_default_region(app, db, tmp_path):
    import_directory(app, tmp_path, GOOD_AND_BAD)

    stored = contacts(db)
    assert stored["klant@example.be"].phone_e164 == "+3225551212"
    assert stored["klant@example.be"].company.name == "Belgisch BV"
    assert "fout@example.nl" not in stored


def test_a_call_from_a_company_line_confirms_the_companys_ticket(
    app, client, db, work, tmp_path
):
    import_directory(
        app, tmp_path, HEADER + ",Receptie,Voorbeeld Logistiek BV,,0591 999 888\n"
    )
    make_ticket(db, NOW - timedelta(minutes=5))
    make_call(db, "+31591999888", at=NOW)
    work()

    body = get_ticket(client, 48213).json
    assert body["escalation"]["state"] == "confirmed"
    assert body["decision"]["tied_by"] == "caller_id:company"


def test_a_contact_the_portal_holds_is_left_to_the_portal(app, db, tmp_path):
    make_ticket(db, NOW)  # the portal's requester, jorien.devries@example.nl
    row = "jorien.devries@example.nl,Jorien,Voorbeeld Logistiek BV,0591 123 123,\n"

    result = import_directory(app, tmp_path, HEADER + row)

    assert "accepted 0 rows" in result.output
    assert "line 2: the portal holds contact jorien.devries@example.nl" in result.output
    assert contacts(db)["jorien.devries@example.nl"].phone_e164 == "+31591123456"


def test_importing_again_updates_instead_of_adding(app, db, tmp_path):
    first = (
        HEADER
        + "pieter@example.nl,Pieter,Acme,0591-654321,\n,Receptie,Acme,0591 777 888,\n"
    )
    again = (
        HEADER
        + "pieter@example.nl,Pieter,Acme,,06 12345670\n,Balie,Acme,0591 777 888,\n"
    )

    import_directory(app, tmp_path, first)
    result = import_directory(app, tmp_path, again)

    assert result.exit_code == 0
    pieter = contacts(db)["pieter@example.nl"]
    assert (pieter.phone_e164, pieter.mobile_e164) == (None, "+31612345670")
    assert company_lines(db) == [("Acme", "Balie", "+31591777888")]


def test_semicolon_separated_file_with_a_byte_order_mark_is_read(app, db, tmp_path):
    text = "email;name;company;phone;mobile\npieter@example.nl;Pieter;;0591-654321;\n"

    result = import_directory(app, tmp_path, text, encoding="utf-8-sig")

    assert result.exit_code == 0, result.output
    assert contacts(db)["pieter@example.nl"].phone_e164 == "+31591654321"


def test_file_without_the_header_is_refused_whole(app, db, tmp_path):
    result = import_directory(app, tmp_path, "pieter@example.nl,Pieter,,0591-654321,\n")

    assert result.exit_code == 1
    assert "the first line must be the header email,name,company,phone,mobile" in (
        result.output
    )
    assert contacts(db) == {}
