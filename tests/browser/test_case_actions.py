"""Leave, hand off (the note is mandatory), change priority, close and reopen, clicked in the
case room: each shows its result without a reload, and each refusal shows the server's
problem detail next to its control (`role=alert`, tied by `aria-describedby`) and leaves
the case unchanged."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Locator, expect

from tests.browser.conftest import People
from tests.browser.harness import Person


def case_of(person: Person, case_id: str) -> dict[str, Any]:
    found = person.api("GET", f"/api/cases/{case_id}")
    assert found.status_code == 200, found.text
    body: dict[str, Any] = found.json()
    return body


def scene(ana: Person, ben: Person) -> str:
    """Ana's open case with Ben in its swarm."""
    opened = ana.api("POST", "/api/cases", {"customer": "Hooli", "subject": "Search is slow"})
    assert opened.status_code == 201, opened.text
    case_id = str(opened.json()["case_id"])
    asked = ana.api("POST", f"/api/cases/{case_id}/swarm", {"help_needed": "query planner"})
    assert asked.status_code == 200, asked.text
    assert ben.api("POST", f"/api/cases/{case_id}/participants", {}).status_code == 200
    return case_id


def refused_next_to(control: Locator, scope: Locator, status: str, *words: str) -> None:
    """The problem shows in `scope`, announced, and `control` is described by it."""
    problem = scope.get_by_role("alert")
    expect(problem).to_contain_text(status)
    for word in words:
        expect(problem).to_contain_text(word)
    described = (control.get_attribute("aria-describedby") or "").split()
    assert problem.get_attribute("id") in described


def open_room(person: Person, case_id: str) -> None:
    person.goto(f"/cases/{case_id}")
    expect(person.page.locator(".room-head .live-status")).to_have_attribute("data-status", "live")
    person.page.evaluate("() => { window.__noReload = true; }")


def no_reload(person: Person) -> None:
    assert person.page.evaluate("() => window.__noReload === true")


def test_leave_refused_then_done(people: People) -> None:
    ana, ben = people("Ana"), people("Ben")
    case_id = scene(ana, ben)
    open_room(ana, case_id)
    open_room(ben, case_id)
    actions = ben.page.locator(".actions-card", has_text="You are in this swarm")
    note = actions.get_by_label("Parting note (optional)")
    leave = actions.get_by_role("button", name="Leave the swarm")
    before = case_of(ana, case_id)["version"]

    note.fill("x" * 2_001)  # over the 2,000 characters a note may have
    leave.click()
    refused_next_to(leave, actions, "422", "note")
    after = case_of(ana, case_id)
    assert after["version"] == before
    assert after["participants"][ben.agent_id]["left_at"] is None

    note.fill("Planner fixed on our side")
    leave.click()
    left = ana.page.locator(".people").get_by_text("Left: Ben")
    expect(left).to_contain_text("Planner fixed on our side")
    expect(ana.page.locator(f'.people-list [data-person="{ben.agent_id}"]')).to_have_count(0)
    assert case_of(ana, case_id)["participants"][ben.agent_id]["left_at"] is not None
    no_reload(ana)
    no_reload(ben)


def test_hand_off_needs_its_note_then_the_new_owner_has_the_case(people: People) -> None:
    ana, ben = people("Ana"), people("Ben")
    case_id = scene(ana, ben)
    ben.page.evaluate("() => { window.__noReload = true; }")  # Ben stays on My cases
    open_room(ana, case_id)
    form = ana.page.get_by_role("form", name="Hand the case off")
    form.get_by_label("New owner").select_option(ben.agent_id)
    note = form.get_by_label("Hand-off note (required)")
    button = form.get_by_role("button", name="Hand off")
    before = case_of(ana, case_id)

    button.click()  # no note
    refused_next_to(note, form, "422", "handoff_note")
    after = case_of(ana, case_id)
    assert (after["version"], after["owner"]["id"]) == (before["version"], ana.agent_id)

    note.fill("Ben found the planner regression; customer expects a call at 15:00")
    button.click()
    expect(ana.page.locator(".room-head .meta")).to_contain_text("owner Ben")
    mine = ben.page.locator("table", has=ben.page.locator("caption", has_text="Cases I own"))
    expect(mine.locator(f'tr[data-case="{case_id}"]')).to_contain_text("ownership transferred")
    owner = case_of(ben, case_id)["owner"]
    assert owner["id"] == ben.agent_id
    no_reload(ana)
    no_reload(ben)


def test_priority_refused_when_unchanged_then_changed(people: People) -> None:
    ana, ben = people("Ana"), people("Ben")
    case_id = scene(ana, ben)
    open_room(ana, case_id)
    form = ana.page.get_by_role("form", name="Change the priority")
    why = form.get_by_label("Why")
    button = form.get_by_role("button", name="Change priority")
    before = case_of(ana, case_id)["version"]

    why.fill("Customer asked")
    button.click()  # still "normal"
    refused_next_to(why, form, "422", "already normal")
    assert case_of(ana, case_id)["version"] == before

    form.get_by_label("New priority").select_option("urgent")
    why.fill("Every search in the EU times out")
    button.click()
    expect(ana.page.locator(".room-head .pill.priority-urgent")).to_have_text("urgent")
    assert case_of(ana, case_id)["priority"] == "urgent"
    no_reload(ana)


def test_close_on_an_outdated_screen_then_close_and_reopen(people: People) -> None:
    ana, ben = people("Ana"), people("Ben")
    case_id = scene(ana, ben)
    open_room(ana, case_id)
    page = ana.page
    close = page.get_by_role("form", name="Close the case")
    note = close.get_by_label("Closing note (optional)")
    note.click()  # Ana starts deciding on the version she sees
    seen = case_of(ana, case_id)["version"]
    posted = ben.api(
        "POST", f"/api/cases/{case_id}/insights", {"kind": "finding", "text": "Index rebuilt"}
    )
    assert posted.status_code == 200, posted.text
    note.fill("Customer confirmed")
    close.get_by_role("button", name="Close the case").click()
    refused_next_to(note, close, "412")
    expect(close.locator("[data-conflict]")).to_contain_text("Index rebuilt")
    after = case_of(ana, case_id)
    assert (after["version"], after["status"]) == (seen + 1, "open")

    close.get_by_role("button", name="I have read this: decide again").click()
    close.get_by_role("button", name="Close the case").click()
    expect(page.locator(".room-head .pill.status-closed")).to_be_visible()
    assert case_of(ana, case_id)["status"] == "closed"

    reopen = page.get_by_role("form", name="Reopen the case")
    why = reopen.get_by_label("Why reopen")
    button = reopen.get_by_role("button", name="Reopen")
    closed_at = case_of(ana, case_id)["version"]
    button.click()  # no reason
    refused_next_to(why, reopen, "422", "reason")
    assert case_of(ana, case_id)["version"] == closed_at

    why.fill("Slow again after the nightly job")
    button.click()
    expect(page.locator(".room-head .pill.status-open")).to_be_visible()
    reopened = case_of(ana, case_id)
    assert (reopened["status"], reopened["version"]) == ("open", closed_at + 1)
    no_reload(ana)
