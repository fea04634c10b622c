"""The agent's kiosk in Chromium, the camera fed by real video: a live applicant gets a line,
a printed photo is refused; a SIM swap and a cancellation go through the same pages."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import numpy as np
from api_world import msisdn
from playwright.sync_api import Browser, Page, Playwright, expect
from registry_world import iccid
from web_world import (
    JUDGED_MS,
    Card,
    Inputs,
    Screens,
    Site,
    chromium,
    console_errors,
    fill_applicant,
    line_from_a_shop,
    person,
    prove,
    sign_in,
    unlabelled_controls,
    y4m_from_frames,
)


def type_document(page: Page, card: Card, line_id: str | None = None) -> None:
    if line_id is not None:
        page.get_by_label("Line ID of the SIM to replace").fill(line_id)
    fill_applicant(page, card)
    page.get_by_label(re.compile("The customer read the privacy notice")).check()
    page.get_by_role("button", name="Start the checks").click()


def test_a_live_applicant_is_approved_and_gets_a_line(page: Page, site: Site,
                                                      inputs: Inputs) -> None:
    errors = console_errors(page)
    screens = Screens(page, "agent")
    page.goto(f"{site.url}/web/agent")
    screens.shot("0-sign-in")
    sign_in(page, site)
    assert unlabelled_controls(page) == []
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
    number = msisdn()
    page.get_by_label("Phone number (international format)").fill(number)
    page.get_by_label("SIM card number (ICCID)", exact=True).fill(iccid())
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


def test_a_sim_swap_then_a_cancellation(page: Page, site: Site, inputs: Inputs) -> None:
    line = line_from_a_shop(site, inputs)
    screens = Screens(page, "agent")
    sign_in(page, site)
    page.get_by_role("button", name=re.compile("SIM swap")).click()
    type_document(page, inputs.card, line_id=line["id"])
    prove(page, inputs.card)
    expect(page.locator("#outcome")).to_have_text("Approved", timeout=JUDGED_MS)
    new_sim = iccid()
    page.get_by_label("New SIM card number (ICCID)").fill(new_sim)
    page.get_by_role("button", name="Swap the SIM").click()
    expect(page.locator("#done-text")).to_contain_text("SIM swapped")
    facts = page.locator("#line-facts")
    expect(facts).to_contain_text(new_sim)
    expect(facts).to_contain_text(line["msisdn"])
    screens.shot("7-swapped")
    page.get_by_role("button", name="Next customer").click()
    page.get_by_role("button", name="Cancel a line").click()
    page.get_by_label("Line ID", exact=True).fill(line["id"])
    page.get_by_label(re.compile("The holder asked to cancel")).check()
    page.get_by_role("button", name="Cancel the line").click()
    expect(page.locator("#done-text")).to_contain_text("Line cancelled")
    expect(facts).to_contain_text("cancelled")
    screens.shot("8-cancelled")


def test_review_needed_and_the_cap_are_shown_with_the_apis_message(
        page: Page, site: Site, inputs: Inputs) -> None:
    """A jurisdiction capping one line per operator: her first line comes from the API, her
    second session needs a reviewer; then the cap refuses the line."""
    agent, reviewer = site.keys["capped_agent"], site.keys["capped_reviewer"]
    with httpx.Client(base_url=site.url, timeout=120) as client:
        api = site.shop(client, inputs)
        assert api.line(agent, api.approved(agent, reviewer, person(inputs.card))).is_success
        waiting = api.start(agent, person(inputs.card))
        api.faces(agent, waiting)
        api.ok("POST", f"/v1/proofing-sessions/{waiting}/conclude", agent)
        screens = Screens(page, "capped")
        sign_in(page, site, "capped_agent")
        page.get_by_role("button", name="Continue a reviewed session").click()
        page.get_by_label("Proofing session ID").fill(waiting)
        page.get_by_role("button", name="Continue").click()
        expect(page.locator("#outcome")).to_have_text("Review needed")
        expect(page.locator("#decision-reasons")).to_contain_text(f"approve session {waiting}")
        expect(page.locator("#line-form")).to_be_hidden()
        screens.shot("1-review-needed")
        api.ok("POST", f"/v1/reviews/proofing-sessions/{waiting}", reviewer,
               json={"approve": True})
    page.get_by_role("button", name="Next customer").click()
    page.get_by_role("button", name="Continue a reviewed session").click()
    page.get_by_label("Proofing session ID").fill(waiting)
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#outcome")).to_have_text("Approved")
    page.get_by_label("Phone number (international format)").fill(msisdn())
    page.get_by_label("SIM card number (ICCID)", exact=True).fill(iccid())
    page.get_by_role("button", name="Register the line").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("LINE_CAP_EXCEEDED")
    expect(alert).to_contain_text("1")
    screens.shot("2-cap-reached")


def test_a_refused_camera_leaves_the_card_upload_but_not_the_liveness(
        browser: Browser, site: Site, inputs: Inputs) -> None:
    context = browser.new_context(viewport={"width": 412, "height": 900})
    # The person said no to the browser's camera prompt.
    context.add_init_script("navigator.mediaDevices.getUserMedia = () => Promise.reject("
                            "new DOMException('Permission denied', 'NotAllowedError'));")
    page = context.new_page()
    screens = Screens(page, "no-camera")
    sign_in(page, site)
    page.get_by_role("button", name="A new line").click()
    type_document(page, inputs.card)
    card_problem = page.locator('section[data-step="document"] .camera-problem')
    expect(card_problem).to_contain_text("The camera was refused")
    expect(card_problem).to_contain_text("upload a photo of the card instead")
    expect(page.get_by_role("button", name="Take the photo")).to_be_hidden()
    page.locator("#card-file").set_input_files(
        files=[{"name": "card.jpg", "mimeType": "image/jpeg", "buffer": inputs.card.jpeg}])
    selfie_problem = page.locator('section[data-step="selfie"] .camera-problem')
    expect(selfie_problem).to_contain_text("cannot be skipped", timeout=30_000)
    expect(page.get_by_role("button", name="Try the camera again")).to_be_visible()
    expect(page.get_by_role("button", name="Take the selfie")).to_be_hidden()
    screens.shot("1-selfie")
    context.close()


def test_the_hints_come_from_the_camera_image(playwright: Playwright, site: Site,
                                              inputs: Inputs, tmp_path: Path) -> None:
    """A dark room as the camera: the page's detector asks for light (the head-turn video's
    hints differ: see the selfie screenshot)."""
    dark = np.full((480, 640, 3), 12, np.uint8)
    with chromium(playwright, y4m_from_frames([dark] * 4, tmp_path / "dark.y4m")) as browser:
        page = browser.new_context(viewport={"width": 412, "height": 900}).new_page()
        sign_in(page, site)
        page.get_by_role("button", name="A new line").click()
        type_document(page, inputs.card)
        expect(page.locator("#card-camera .hint")).to_have_text("More light, please.")
        page.locator("#card-file").set_input_files(
            files=[{"name": "card.jpg", "mimeType": "image/jpeg", "buffer": inputs.card.jpeg}])
        expect(page.locator("#selfie-camera .hint")).to_have_text(
            re.compile("^More light, please"), timeout=30_000)
