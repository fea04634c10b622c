"""The citizen's portal in Chromium: she proves herself with her card and the camera (the
head-turn video), sees the line a shop registered under her ID, reports it as not hers,
and reads who accessed her data."""

from __future__ import annotations

import re

import httpx
from api_world import Api, Shots
from playwright.sync_api import Page, expect
from web_world import JUDGED_MS, Inputs, Screens, Site, console_errors, prove


def line_from_a_shop(site: Site, inputs: Inputs, person: dict[str, str]) -> dict[str, str]:
    """A line registered for her through the API (a reviewed session, no browser)."""
    with httpx.Client(base_url=site.url, timeout=120) as client:
        api = Api(client=client, services=site.services, admin="",  # type: ignore[arg-type]
                  shots=Shots(document=inputs.card.jpeg, selfie=inputs.selfie, video=b""))
        proofing_id = api.approved(site.agent_key, site.reviewer_key, person)
        response = api.line(site.agent_key, proofing_id)
        assert response.status_code == 201, response.text
        line: dict[str, str] = response.json()
        return line


def test_a_citizen_sees_disputes_and_audits_her_lines(page: Page, site: Site,
                                                      inputs: Inputs) -> None:
    data = inputs.card.data
    name = f"{data.surname} {data.given_names}"
    line = line_from_a_shop(site, inputs, {"number": data.number, "name": name,
                                           "birth_date": data.birth_date.isoformat()})
    errors = console_errors(page)
    screens = Screens(page, "citizen")
    page.goto(f"{site.url}/web/citizen")
    page.get_by_label("Document number").fill(data.number)
    page.get_by_label("Full name, as printed").fill(name)
    page.get_by_label("Date of birth").fill(data.birth_date.isoformat())
    page.get_by_label(re.compile("I read the privacy notice")).check()
    screens.shot("0-start")
    page.get_by_role("button", name="Prove it is me").click()
    prove(page, inputs.card)
    expect(page.get_by_role("heading", name="Lines under my ID")).to_be_visible(timeout=JUDGED_MS)
    last4 = line["msisdn"][-4:]
    row = page.locator("#lines tbody tr", has_text=re.compile(rf"\*{last4}"))
    expect(row).to_have_count(1)  # (the kiosk test may have given her another line)
    assert line["msisdn"] not in page.content()
    expect(page.locator("#accesses")).to_contain_text("Line registered")
    screens.shot("1-lines")
    row.get_by_role("button", name=re.compile("is not mine$")).click()
    screens.shot("2-not-mine")
    page.get_by_role("button", name="Yes, it is not mine").click()
    expect(page.locator("#dispute-result")).to_contain_text("Reported")
    expect(row).to_contain_text("disputed")
    expect(page.locator("#accesses")).to_contain_text("Line reported as not yours")
    screens.shot("3-reported")
    assert errors == [], errors
