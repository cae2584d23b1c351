"""The supervisor dashboard with real data: an admin's SLA policy (its targets only for a
customer tier of this test, so the other browser tests' cases start no clock), cases
worked over HTTP, then in the browser: the KPI tiles and charts of the period filtered
to this test's product area, the case at risk of breach, the figures moving live when a
case is opened elsewhere, and nothing serious for axe."""

from __future__ import annotations

import uuid

from playwright.sync_api import expect

from domain.actors import Role
from tests.browser.conftest import People


def test_the_dashboard_shows_kpis_at_risk_cases_and_follows_new_events(people: People) -> None:
    admin, ana, sue = people("Root", Role.ADMIN), people("Ana"), people("Sue", Role.SUPERVISOR)
    tag = uuid.uuid4().hex[:8]
    customer, area = f"Dash Co {tag}", f"dash-{tag}"
    policy = {
        "name": f"Dashboard {tag}",
        "customer_tiers": {customer: f"tier-{tag}"},
        "targets": [
            {"target": "first_response", "minutes": 60, "tier": f"tier-{tag}"},
            {"target": "resolution", "minutes": 600, "tier": f"tier-{tag}"},
        ],
    }
    assert admin.api("POST", "/api/sla/policies", policy).status_code == 201

    def open_case(subject: str) -> str:
        r = ana.api(
            "POST",
            "/api/cases",
            {"customer": customer, "subject": subject, "product_area": area, "priority": "high"},
        )
        assert r.status_code == 201, r.text
        return str(r.json()["case_id"])

    quick, slow = open_case(f"Quick one {tag}"), open_case(f"Slow one {tag}")
    for path, body in (
        (f"/api/cases/{quick}/customer-messages", {"direction": "outbound", "text": "Done?"}),
        (f"/api/cases/{quick}/resolve", {"summary": "Fixed"}),
        (f"/api/cases/{quick}/satisfaction", {"score": 5}),
    ):
        assert ana.api("POST", path, body).status_code == 200

    page = sue.page
    page.get_by_role("link", name="Outcomes").click()
    expect(page.get_by_role("heading", name="Outcomes", level=1)).to_be_visible()
    page.get_by_label("By").select_option("day")
    page.get_by_label("Product area").fill(area)
    page.get_by_label("Product area").press("Tab")
    tiles = page.get_by_label("The period at a glance")
    expect(tiles.locator("[data-kpi=opened] dd")).to_have_text("2")
    expect(tiles.locator("[data-kpi=resolved] dd")).to_have_text("1")
    expect(tiles.locator("[data-kpi=sla] dd")).to_have_text("100%")  # both met
    expect(tiles.locator("[data-kpi=backlog] dd")).to_have_text("1")
    expect(tiles.locator("[data-kpi=csat] dd")).to_have_text("5.0")
    for name in (
        "Cases opened, resolved and open",
        "SLA compliance by target",
        "Resolution time distribution",
    ):
        chart = page.get_by_role("img", name=name)
        expect(chart).to_be_visible()
        box = chart.bounding_box()
        assert box is not None
        assert box["width"] > 100
        assert box["height"] > 50
    # the slow case's first response is due within the hour: at risk
    risk = page.locator(f"tr[data-risk='{slow}']")
    expect(risk).to_contain_text(f"Slow one {tag}")
    expect(risk).to_contain_text("first response")
    expect(page.locator(f"tr[data-risk='{quick}']")).to_have_count(0)

    # live: a case opened elsewhere shows up without a reload
    third = open_case(f"Third one {tag}")
    expect(tiles.locator("[data-kpi=opened] dd")).to_have_text("3", timeout=15_000)
    expect(page.locator(f"tr[data-risk='{third}']")).to_have_count(1, timeout=15_000)
    assert sue.axe() == []
