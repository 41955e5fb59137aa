"""The dashboard in a real headless Chromium, on a phone-sized screen.

Debian's chromium package, driven by Playwright. Without it the tests skip
locally and fail under CI (``CI`` set), where .ci/run installs it. The
browser may load pages from the test's own loopback server only; a failed
test leaves a screenshot in test-artifacts/.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from escalation.rule import Reason, open_review
from tests.conftest import run_jobs
from tests.dashboard_helpers import PASSWORD, make_lead
from tests.factories import make_call, make_ticket

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).parent.parent / "test-artifacts"
PHONE = {"width": 375, "height": 740}
# The queue polls every 2 s; a new escalation must show well within this.
APPEARS_WITHIN_MS = 8000
MOBILE = "+31612345678"  # the fixture requester's mobile


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must run the browser tests (see .ci/run)")
    pytest.skip(f"{reason}; install it to run the browser tests")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is missing (requirements-test.txt)")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport=PHONE, base_url=live_server)
    context.route("**/*", lambda route: _loopback_only(route, live_server))
    page = context.new_page()
    page.set_default_timeout(10_000)
    failed_before = request.session.testsfailed
    yield page

    # pytest counts a failed call before fixtures are torn down.
    if request.session.testsfailed > failed_before:
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    context.close()


def _loopback_only(route: Any, live_server: str) -> None:
    if route.request.url.startswith(live_server + "/"):
        route.continue_()
    else:
        route.abort()


def log_in(page: Any, password: str = PASSWORD) -> None:
    page.goto("/dashboard/")
    page.get_by_label("E-mail address").fill("ann@desk.example")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def fits_the_screen(page: Any) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_new_escalation_appears_live_and_a_lead_acknowledges_it(page, app, db):
    from playwright.sync_api import expect

    make_lead(db)
    log_in(page)
    expect(page.get_by_role("heading", name="Escalation queue")).to_be_visible()
    expect(page.locator("#h-urgent .count")).to_have_text("0")
    page.evaluate("window.stillTheSamePage = true")

    now = datetime.now(UTC)
    make_ticket(db, now - timedelta(minutes=3))
    make_call(db, MOBILE, at=now)
    assert run_jobs(app) == 0

    urgent = page.locator("section.lane-urgent")
    expect(urgent).to_contain_text("Ticket 48213", timeout=APPEARS_WITHIN_MS)
    expect(urgent).to_contain_text("by a call from +31******678")
    assert page.evaluate("window.stillTheSamePage") is True
    assert fits_the_screen(page)

    page.get_by_role("button", name="Acknowledge ticket 48213").click()
    expect(page.get_by_text("Ticket 48213 acknowledged.")).to_be_visible()
    expect(urgent).to_contain_text("Acknowledged by Ann Lead")

    assert run_jobs(app) == 0  # carries the action to the portal
    page.get_by_role("link", name="Ticket 48213").click()
    trail = page.locator("section[aria-labelledby=h-trail]")
    expect(trail).to_contain_text("Acknowledged by Ann Lead")
    expect(trail).to_contain_text("Portal: skipped: write-back is off")
    expect(page.get_by_role("link", name=MOBILE)).to_have_attribute(
        "href", f"tel:{MOBILE}"
    )
    assert fits_the_screen(page)


def test_a_lead_declines_a_review_case_with_a_reason(page, db):
    from playwright.sync_api import expect

    make_lead(db)
    ticket = make_ticket(db, datetime.now(UTC) - timedelta(minutes=3))
    call = make_call(db, "+31201112233", at=datetime.now(UTC))
    with db.transaction() as session:
        open_review(
            session,
            Reason.TYPED_BY_UNKNOWN_CALLER,
            call=session.merge(call),
            ticket=session.merge(ticket),
        )
    log_in(page)

    page.get_by_role("link", name="Ticket number typed by an unknown caller").click()
    page.get_by_label("Why is this not Urgent?").fill("Wrong ticket number typed")
    page.get_by_role("button", name="Decline").click()

    expect(page.get_by_text("declined.", exact=False)).to_be_visible()
    trail = page.locator("section[aria-labelledby=h-trail]")
    expect(trail).to_contain_text("Declined by Ann Lead")
    expect(trail).to_contain_text("Why: Wrong ticket number typed")
    page.get_by_role("link", name="Back to the queue").click()
    expect(page.locator("#h-review .count")).to_have_text("0")


def test_a_wrong_password_keeps_the_lead_out(page, db):
    from playwright.sync_api import expect

    make_lead(db)

    log_in(page, password="not the password")

    expect(page.get_by_role("alert")).to_have_text(
        "That e-mail address and password do not match a lead."
    )
    page.goto("/dashboard/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
