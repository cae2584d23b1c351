"""Three browsers at once (the owner and two experts) play a whole swarm in the console:
open, raise a hand, invite, the invitation appears in the expert's inbox without reload,
join from its link, acknowledge the briefing, post insights citing each other, propose,
accept, resolve. Every screen shows each step without a reload (a reload would lose the
`marker` each page carries). And the owner's inbox shows a decline live, with the link
to the room's invite picker."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import People
from tests.browser.harness import Person

SUBJECT = "Checkout fails after the 3-D Secure challenge"


def mark(page: Page) -> None:
    """Put a marker in the page's memory: it survives client-side navigation only."""
    page.evaluate("() => { window.__noReload = true; }")


def assert_not_reloaded(*people: Person) -> None:
    for person in people:
        assert person.page.evaluate("() => window.__noReload === true"), person.name


def room(person: Person) -> Page:
    return person.page


def open_case(owner: Person, subject: str = SUBJECT) -> str:
    page = owner.page
    page.get_by_role("button", name="Open a case").click()
    page.get_by_label("Customer").fill("Acme Corp")
    page.get_by_label("Subject").fill(subject)
    page.get_by_label("Description").fill("Every EU card payment returns card_declined.")
    page.get_by_role("button", name="Open", exact=True).click()
    page.wait_for_url(re.compile(r"/cases/[0-9a-f-]{36}$"))
    return page.url.rsplit("/", 1)[1]


def test_three_browsers_play_a_whole_swarm(people: People) -> None:
    ana, ben, chen = people("Ana"), people("Ben"), people("Chen")
    for person in (ana, ben, chen):
        mark(person.page)
    skills = {"skills": {"payments": 5, "3ds": 4}}
    assert ben.api("PUT", "/api/agents/me", skills).status_code == 200
    ben.page.get_by_role("link", name="Inbox").click()
    expect(ben.page.get_by_role("status").filter(has_text="Live")).to_be_visible()

    case_id = open_case(ana)
    a = ana.page
    a.get_by_label("Text").fill("HTTP 402 after a successful 3DS step")
    a.get_by_role("button", name="Add", exact=True).click()
    briefing = a.locator(".briefing")
    expect(briefing.get_by_text("HTTP 402 after a successful 3DS step")).to_be_visible()

    # raise a hand
    a.get_by_label("Help needed").fill("Someone who knows the 3DS retry path")
    a.get_by_label("Skills wanted (comma-separated)").fill("payments, 3ds")
    a.get_by_label("Urgency").select_option("high")
    a.get_by_role("button", name="Ask the swarm for help").click()
    expect(briefing.get_by_text("Someone who knows the 3DS retry path")).to_be_visible()

    # the picker suggests Ben (he knows both skills), saying why
    suggested = a.locator(f'[data-suggestion="{ben.agent_id}"]')
    expect(suggested).to_contain_text("skills")
    # invite Ben from the picker: it appears in his inbox without a reload
    suggested.get_by_role("button", name="Ben").click()  # picks him
    expect(a.get_by_label("Why them")).to_have_value(re.compile("^Suggested: skills"))
    a.get_by_label("Why them").fill("You wrote the retry path")
    a.get_by_role("button", name="Invite", exact=True).click()
    expect(a.locator(f'[data-invitation="{ben.agent_id}"]')).to_contain_text("pending")
    invitation = ben.page.locator(f'.inbox-item[data-case="{case_id}"]')
    expect(invitation).to_contain_text("Invited to")
    expect(invitation).to_contain_text("You wrote the retry path")
    expect(ben.page.get_by_label("1 pending invitations")).to_be_visible()

    # Ben opens the room from the invitation's link and joins
    invitation.get_by_role("link", name=SUBJECT).click()
    b = ben.page
    b.get_by_role("button", name="Accept the invitation and join").click()
    expect(b.get_by_role("heading", name="You are in this swarm")).to_be_visible()
    expect(a.locator(f'[data-person="{ben.agent_id}"]')).to_contain_text("expert")
    expect(a.locator(f'[data-person="{ben.agent_id}"]')).to_have_attribute("data-present", "yes")

    # Chen offers help from the swarm board
    chen.page.get_by_role("link", name="Swarm board").click()
    request = chen.page.locator(f'.request[data-case="{case_id}"]')
    expect(request).to_contain_text("Someone who knows the 3DS retry path")
    request.get_by_role("button", name="Offer help").click()
    c = chen.page
    chen.page.wait_for_url(f"**/cases/{case_id}")
    expect(c.get_by_role("heading", name="You are in this swarm")).to_be_visible()
    for page in (a, b):
        expect(page.locator(f'[data-person="{chen.agent_id}"]')).to_have_attribute(
            "data-present", "yes"
        )

    # Ben acknowledges the briefing: everything newer than his last acknowledgement
    # is marked New until then
    expect(b.locator(".briefing .new").first).to_be_visible()
    b.get_by_role("button", name=re.compile("^Acknowledge the briefing")).click()
    expect(b.get_by_text(re.compile("You have read everything up to version"))).to_be_visible()
    expect(b.locator(".briefing .new")).to_have_count(0)

    # insights citing each other
    b.get_by_label("Insight", exact=True).fill("The retry drops the 3DS result")
    b.get_by_role("button", name="Post insight").click()
    first = "The retry drops the 3DS result"
    for page in (a, b, c):
        expect(page.locator(".insights li").filter(has_text=first)).to_be_visible()
    c.get_by_label("Kind").last.select_option("answer")
    c.get_by_label("Insight", exact=True).fill("Confirmed: build 4.2.0 drops it")
    c.locator(".post-insight").get_by_label(re.compile("finding: The retry drops")).check()
    c.locator(".post-insight").get_by_label("Ben", exact=True).check()
    c.get_by_role("button", name="Post insight").click()
    second = a.locator(".insights li").filter(has_text="Confirmed: build 4.2.0 drops it")
    expect(second).to_contain_text("cites")
    expect(second).to_contain_text("mentions Ben")
    expect(b.locator(".insights li").filter(has_text="Confirmed: build 4.2.0")).to_be_visible()

    # Chen proposes, citing both; Ana accepts; everyone sees it
    c.get_by_label("Summary").fill("Deploy the retry fix (build 4.2.1)")
    c.get_by_label("Steps (one per line)").fill("Roll out 4.2.1 to EU\nAsk the customer to retry")
    propose = c.locator(".propose")
    propose.get_by_label(re.compile("finding: The retry drops")).check()
    propose.get_by_label(re.compile("answer: Confirmed")).check()
    c.get_by_role("button", name="Propose", exact=True).click()
    proposal = a.locator(".proposal").filter(has_text="Deploy the retry fix")
    expect(proposal.locator(".cites li")).to_have_count(2)
    proposal.get_by_role("button", name="Accept").click()
    for page in (a, b, c):
        expect(page.locator(".proposal").filter(has_text="Deploy the retry fix")).to_have_attribute(
            "data-status", "accepted"
        )

    # resolve, citing the accepted proposal
    expect(a.get_by_text("Cites the accepted proposal")).to_be_visible()
    a.get_by_label("Resolution summary").fill("Retry fix deployed; customer confirmed")
    a.get_by_role("button", name="Resolve", exact=True).click()
    for page in (a, b, c):
        expect(page.locator(".room-head .pill").first).to_have_text("resolved")
    assert_not_reloaded(ana, ben, chen)


def test_the_owner_sees_a_decline_live_and_goes_to_the_next_suggestion(people: People) -> None:
    ana, ben = people("Ana"), people("Ben")
    mark(ana.page)
    assert ben.api("PUT", "/api/agents/me", {"skills": {"payments": 5}}).status_code == 200
    ana.page.get_by_role("link", name="Inbox").click()
    expect(ana.page.get_by_role("status").filter(has_text="Live")).to_be_visible()
    opened = ana.api("POST", "/api/cases", {"customer": "Acme", "subject": "Refunds stuck"})
    case_id = opened.json()["case_id"]
    invite = {"expert_id": ben.agent_id, "reason": "refunds"}
    assert ana.api("POST", f"/api/cases/{case_id}/invitations", invite).status_code == 200
    declined = ben.api("POST", f"/api/cases/{case_id}/invitations/decline", {"reason": "off"})
    assert declined.status_code == 200
    item = ana.page.locator(f'.inbox-item[data-kind="invitation_declined"][data-case="{case_id}"]')
    expect(item).to_contain_text("Your invitation was declined")
    expect(item).to_contain_text("off")
    item.get_by_role("link", name="See who can help next").click()
    ana.page.wait_for_url(f"**/cases/{case_id}")
    expect(ana.page.get_by_role("heading", name="Invite an expert")).to_be_visible()
    assert_not_reloaded(ana)
