"""The agent's kiosk in Chromium, the camera fed by real video: a live applicant gets a line,
a printed photo is refused; a SIM swap and a cancellation go through the same pages."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Page, Playwright, expect
from web_world import JUDGED_MS, Card, Inputs, Screens, Site, chromium, console_errors, prove


def sign_in(page: Page, site: Site) -> None:
    page.goto(f"{site.url}/web/agent")
    page.get_by_label("Your agent API key").fill(site.agent_key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="What does the customer need?")).to_be_visible()


def type_document(page: Page, card: Card, line_id: str | None = None) -> None:
    if line_id is not None:
        page.get_by_label("Line ID of the SIM to replace").fill(line_id)
    page.get_by_label("Document number").fill(card.data.number)
    page.get_by_label("Full name, as printed").fill(f"{card.data.surname} {card.data.given_names}")
    page.get_by_label("Date of birth").fill(card.data.birth_date.isoformat())
    page.get_by_label(re.compile("The customer read the privacy notice")).check()
    page.get_by_role("button", name="Start the checks").click()


def test_a_live_applicant_is_approved_and_gets_a_line(page: Page, site: Site,
                                                      inputs: Inputs) -> None:
    errors = console_errors(page)
    screens = Screens(page, "agent")
    page.goto(f"{site.url}/web/agent")
    screens.shot("0-sign-in")
    sign_in(page, site)
    screens.shot("1-home")
    page.get_by_role("button", name="A new line").click()
    type_document(page, inputs.card)
    expect(page.locator("#card-camera.live")).to_be_visible()
    screens.shot("2-card")
    prove(page, inputs.card, screens)
    expect(page.locator("#liveness-result")).to_have_attribute("data-verdict", "live")
    expect(page.get_by_role("heading", name="Decision")).to_be_visible(timeout=JUDGED_MS)
    expect(page.locator("#outcome")).to_have_text("Approved")
    screens.shot("5-decision")
    number = f"+86139{uuid.uuid4().int % 10**8:08d}"
    page.get_by_label("Phone number (international format)").fill(number)
    page.get_by_label("SIM card number (ICCID)", exact=True).fill("89860012345678901238")
    page.get_by_role("button", name="Register the line").click()
    expect(page.locator("#done-text")).to_have_text("Line registered.")
    screens.shot("6-line")
    facts = page.locator("#line-facts").inner_text()
    assert number in facts and "active" in facts, facts
    assert errors == [], errors


def test_a_printed_photo_is_refused(playwright: Playwright, site: Site, inputs: Inputs) -> None:
    with chromium(playwright, inputs.attack_camera) as browser:
        page = browser.new_context(viewport={"width": 412, "height": 900}).new_page()
        screens = Screens(page, "attack")
        sign_in(page, site)
        page.get_by_role("button", name="A new line").click()
        type_document(page, inputs.attack_card)
        prove(page, inputs.attack_card)
        verdict = page.locator("#liveness-result")
        expect(verdict).to_have_attribute("data-verdict", "spoof")
        screens.shot("1-refused")
        page.get_by_role("button", name="Finish with this result").click()
        expect(page.locator("#outcome")).to_have_text("Rejected")
        expect(page.locator("#line-form")).to_be_hidden()
        screens.shot("2-decision")
