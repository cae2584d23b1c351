"""My cases, the swarm board and the supervisor's list follow the server live: four
browsers watch while changes are made elsewhere (over HTTP), and each list shows each of
them without a reload and without asking the server again (no list request after the
page loaded: the lists come over their sockets, `/ws/mycases`, `/ws/swarms`, `/ws/cases`)."""

from __future__ import annotations

from playwright.sync_api import Locator, Request, expect

from domain.actors import Role
from tests.browser.conftest import People
from tests.browser.harness import Person


def in_table(person: Person, caption: str, case_id: str) -> Locator:
    page = person.page
    table = page.locator("table", has=page.locator("caption", has_text=caption))
    return table.locator(f'tr[data-case="{case_id}"]')


def watch_list_requests(person: Person) -> list[str]:
    """Every HTTP request for a list the page makes from now on (none expected)."""
    asked: list[str] = []

    def seen(request: Request) -> None:
        path = request.url.removeprefix(person.url)
        if path.startswith(("/api/cases?", "/api/swarms")):
            asked.append(path)

    person.page.on("request", seen)
    return asked


def test_lists_show_every_change_without_a_reload_or_a_refresh(people: People) -> None:
    ana, ben, chen = people("Ana"), people("Ben"), people("Chen")
    sam = people("Sam", Role.SUPERVISOR)
    chen.goto("/board")
    sam.goto("/supervisor")
    for person in (ana, ben, chen, sam):
        expect(person.page.locator("main")).not_to_contain_text("Loading")
        expect(person.page.get_by_role("button", name="Refresh")).to_have_count(0)
        person.page.evaluate("() => { window.__noReload = true; }")
    asked = {person.name: watch_list_requests(person) for person in (ana, ben, chen, sam)}

    opened = ana.api("POST", "/api/cases", {"customer": "Umbrella", "subject": "Exports stall"})
    assert opened.status_code == 201, opened.text
    case_id = str(opened.json()["case_id"])
    base = f"/api/cases/{case_id}"
    mine = in_table(ana, "Cases I own", case_id)
    expect(mine).to_contain_text("Exports stall")
    supervised = sam.page.locator(f'tr[data-case="{case_id}"]')
    expect(supervised).to_contain_text("open")
    expect(supervised).to_contain_text("Ana")

    raised = ana.api("POST", base + "/swarm", {"help_needed": "someone who knows S3 exports"})
    assert raised.status_code == 200, raised.text
    request = chen.page.locator(f'.request[data-case="{case_id}"]')
    expect(request).to_contain_text("someone who knows S3 exports")
    expect(mine).to_contain_text("hand raised")
    expect(mine).to_contain_text("You: swarm requested")

    handed = ana.api(
        "POST",
        base + "/owner",
        {"to_owner_id": ben.agent_id, "to_owner_name": "Ben", "handoff_note": "Ben knows S3"},
    )
    assert handed.status_code == 200, handed.text
    expect(in_table(ben, "Cases I own", case_id)).to_contain_text("Exports stall")
    expect(mine).to_have_count(0)
    expect(in_table(ana, "Cases I help on", case_id)).to_contain_text("ownership transferred")
    expect(supervised).to_contain_text("Ben")

    urgent = ben.api("POST", base + "/priority", {"priority": "urgent", "reason": "EU down"})
    assert urgent.status_code == 200, urgent.text
    expect(in_table(ben, "Cases I own", case_id)).to_contain_text("urgent")
    expect(supervised).to_contain_text("urgent")

    resolved = ben.api("POST", base + "/resolve", {"summary": "Bucket policy fixed"})
    assert resolved.status_code == 200, resolved.text
    expect(request).to_have_count(0)  # the board drops an answered case's request
    expect(supervised).to_have_count(0)  # no longer open
    expect(in_table(ben, "Cases I own", case_id)).to_contain_text("resolved")

    closed = ben.api("POST", base + "/close", {})
    assert closed.status_code == 200, closed.text
    expect(ben.page.locator(f'tr[data-case="{case_id}"]')).to_have_count(0)
    expect(ana.page.locator(f'tr[data-case="{case_id}"]')).to_have_count(0)

    for person in (ana, ben, chen, sam):
        assert person.page.evaluate("() => window.__noReload === true"), person.name
        assert asked[person.name] == [], f"{person.name} asked again: {asked[person.name]}"
