"""The citizen's portal in Chromium: she proves herself with her card and the camera (the
head-turn video), sees the line a shop registered under her ID, reports it as not hers,
and reads who accessed her data, each access checked in the browser against the signed
transparency log."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Browser, Page, expect
from web_world import (
    JUDGED_MS,
    Inputs,
    Screens,
    Site,
    console_errors,
    fill_applicant,
    line_from_a_shop,
    person,
    prove,
    sign_in,
    unlabelled_controls,
)


def test_a_citizen_sees_disputes_and_audits_her_lines(page: Page, site: Site,
                                                      inputs: Inputs) -> None:
    line = line_from_a_shop(site, inputs)
    errors = console_errors(page)
    screens = Screens(page, "citizen")
    page.goto(f"{site.url}/web/citizen")
    fill_applicant(page, inputs.card)
    page.get_by_label(re.compile("I read the privacy notice")).check()
    assert unlabelled_controls(page) == []
    screens.shot("0-start")
    page.get_by_role("button", name="Prove it is me").click()
    prove(page, inputs.card)
    expect(page.get_by_role("heading", name="Lines under my ID")).to_be_visible(timeout=JUDGED_MS)
    last4 = line["msisdn"][-4:]
    row = page.locator("#lines tbody tr", has_text=re.compile(rf"\*{last4}"))
    expect(row).to_have_count(1)  # (the kiosk test may have given her another line)
    assert line["msisdn"] not in page.content()
    expect(page.locator("#accesses")).to_contain_text("Line registered")
    registered = page.locator("#accesses tbody tr", has_text="Line registered")
    expect(registered.first).to_contain_text("Verified")  # checked in the browser
    expect(page.locator("#accesses")).not_to_contain_text("NOT verified")
    screens.shot("1-lines")
    row.get_by_role("button", name=re.compile("is not mine$")).click()
    screens.shot("2-not-mine")
    page.get_by_role("button", name="Yes, it is not mine").click()
    expect(page.locator("#dispute-result")).to_contain_text("Reported")
    expect(row).to_contain_text("disputed")
    expect(page.locator("#accesses")).to_contain_text("Line reported as not yours")
    screens.shot("3-reported")
    assert errors == [], errors


def test_a_shop_issues_a_sign_in_code_she_uses_at_home(browser: Browser, page: Page, site: Site,
                                                      inputs: Inputs) -> None:
    """The kiosk continues an approved self-service session and shows the code once; the
    portal signs her in with it."""
    with httpx.Client(base_url=site.url, timeout=120) as client:
        api = site.shop(client, inputs)
        approved = api.approved(site.keys["agent"], site.keys["reviewer"], person(inputs.card),
                                purpose="self_service")
    sign_in(page, site)
    page.get_by_role("button", name="Continue a reviewed session").click()
    page.get_by_label("Proofing session ID").fill(approved)
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#line-form")).to_be_hidden()
    page.get_by_role("button", name="Issue the code").click()
    code = page.locator("#code-token")
    expect(code).to_have_text(re.compile(r"\S{20,}"))
    Screens(page, "agent").shot("9-code")
    home = browser.new_context(viewport={"width": 412, "height": 900}).new_page()
    home.goto(f"{site.url}/web/citizen")
    home.get_by_text("A shop gave me a sign-in code").click()
    home.get_by_label("Sign-in code").fill(code.inner_text())
    home.get_by_role("button", name="Sign in").click()
    expect(home.get_by_role("heading", name="Lines under my ID")).to_be_visible()
    expect(home.locator("#accesses")).to_contain_text("You signed in")
    home.context.close()
