"""Reading a long case and the case as it stood: the room shows the document's window of
newest items and pages older ones in on request; the version slider (`?at_version=V`)
shows the case as it stood at V, read-only, from the keyboard too."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import People


def test_older_insights_are_paged_in_and_the_slider_shows_the_case_as_it_stood(
    people: People,
) -> None:
    ana = people("Ana")
    opened = ana.api("POST", "/api/cases", {"customer": "Hooli", "subject": "Slow search"})
    case_id = str(opened.json()["case_id"])
    for n in range(30):
        body = {"kind": "finding", "text": f"finding number {n:02d}"}
        assert ana.api("POST", f"/api/cases/{case_id}/insights", body).status_code == 200
    ana.goto(f"/cases/{case_id}")
    page = ana.page
    rows = page.locator(".insights li")
    expect(page.locator(".room")).to_have_attribute("data-version", "31")
    window = rows.count()
    assert 0 < window < 30
    page.locator(".insights").get_by_role("button", name=re.compile("earlier")).click()
    expect(rows).to_have_count(30)
    texts = rows.all_inner_texts()
    assert [re.search(r"number (\d+)", t).group(1) for t in texts] == [  # type: ignore[union-attr]
        f"{n:02d}" for n in range(30)
    ]

    # the case as it stood at version 5: four insights, nothing to act on
    page.locator("#version-slider").focus()
    page.keyboard.press("Home")
    page.wait_for_url(re.compile(r"at_version=1$"))
    ana.goto(f"/cases/{case_id}?at_version=5")
    expect(page.get_by_text("as it stood at version 5")).to_be_visible()
    expect(rows).to_have_count(4)
    expect(page.get_by_role("button", name="Post insight")).to_have_count(0)
    page.get_by_role("link", name="Back to the live case").click()
    expect(page.locator(".room")).to_have_attribute("data-version", "31")
    expect(page.get_by_role("button", name="Post insight")).to_be_visible()
