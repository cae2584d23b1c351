"""Knowledge in the console: the owner of a resolved case drafts its article from the
case room, sees where every sentence came from, edits (the editor's sentence marked, the
others keeping their source) and publishes; another agent opens a case like it, finds the
article and the solved case in the case room's "Solved before" panel, links both (each a
reuse), and finds the article by search with the words highlighted; a refusal is shown
next to its control."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect

from tests.browser.conftest import People
from tests.browser.harness import Person


def solved_case(owner: Person, expert: Person, subject: str) -> str:
    """A case solved by `expert`'s accepted proposal, set up over HTTP."""

    def ok(person: Person, path: str, body: object = None) -> dict[str, object]:
        response = person.api("POST", path, body)
        assert response.status_code in (200, 201), response.text
        found: dict[str, object] = response.json()
        return found

    case_id = str(
        ok(owner, "/api/cases", {"customer": "Acme", "subject": subject, "product_area": "media"})[
            "case_id"
        ]
    )
    base = f"/api/cases/{case_id}"
    ok(owner, f"{base}/context", {"kind": "environment", "text": "Kestrel 9 on ARM boards."})
    ok(owner, f"{base}/invitations", {"expert_id": expert.agent_id, "reason": "codecs"})
    ok(expert, f"{base}/participants", {})
    insight = ok(
        expert, f"{base}/insights", {"kind": "finding", "text": "The ARM build lacks the codec."}
    )
    proposal = ok(
        expert,
        f"{base}/proposals",
        {
            "summary": "Install the ARM codec.",
            "steps": ["Download the codec.", "Restart the player."],
            "cites": [insight["insight_id"]],
        },
    )
    ok(owner, f"{base}/proposals/{proposal['proposal_id']}/accept")
    ok(
        owner,
        f"{base}/resolve",
        {"summary": "Codec installed.", "proposal_id": proposal["proposal_id"]},
    )
    return case_id


def test_draft_edit_publish_then_found_before_asked(people: People) -> None:
    # names no other browser test uses: the invite pickers of the shared server list
    # every agent, and other tests pick theirs by name
    ana, ben, chen = people("Kira"), people("Lev"), people("Mona")
    word = "zq" + uuid.uuid4().hex[:8]  # only this test's texts hold it
    case_id = solved_case(ana, ben, f"Video {word} stutters on ARM")

    # Kira drafts the article from the case room
    a = ana.page
    ana.goto(f"/cases/{case_id}")
    expect(a.locator(".room-head .pill").first).to_have_text("resolved")
    a.get_by_role("button", name="Draft a knowledge article").click()
    a.wait_for_url(re.compile(r"/articles/[0-9a-f-]{36}$"))
    article_id = a.url.rsplit("/", 1)[1]
    cause = a.locator('[data-section="cause"] .sentence')
    expect(cause).to_have_count(1)
    expect(cause.first).to_contain_text("The ARM build lacks the codec.")
    expect(cause.first).to_contain_text("insight posted by Lev")
    resolution = a.locator('[data-section="resolution"] .sentence')
    expect(resolution).to_have_count(3)
    expect(resolution.first).to_contain_text("resolution proposed by Lev")

    # she rewrites one step: that sentence is hers, the others keep their source
    a.get_by_label("resolution (one sentence per line)").fill(
        "Install the ARM codec.\nDownload the codec from the vendor portal.\nRestart the player."
    )
    a.get_by_role("button", name="Save edits").click()
    edited = a.locator('[data-section="resolution"] .sentence.by-editor')
    expect(edited).to_have_count(1)
    expect(edited).to_contain_text("written by Kira in edit v2")
    expect(edited).to_contain_text("rewriting resolution proposed by Lev")
    expect(
        a.locator('[data-section="resolution"] .sentence[data-event="ResolutionProposed"]')
    ).to_have_count(2)
    a.get_by_role("button", name="Publish").click()
    expect(a.locator("article.article")).to_have_attribute("data-status", "published")

    # a refusal next to its control: Lev may flag, but not with an empty reason
    ben.goto(f"/articles/{article_id}")
    ben.page.get_by_role("button", name="Flag").click()
    expect(ben.page.locator("#flag-problem")).to_contain_text("422")

    # Mona opens a case like it: the room shows the article, and she links it
    opened = chen.api(
        "POST",
        "/api/cases",
        {"customer": "Beta", "subject": f"{word} video stutters again", "product_area": "media"},
    )
    assert opened.status_code == 201, opened.text
    new_case = opened.json()["case_id"]
    c = chen.page
    chen.goto(f"/cases/{new_case}")
    panel = c.locator(".knowledge")
    hit = panel.locator(f'[data-id="{article_id}"]')
    expect(hit).to_contain_text(f"Video {word} stutters on ARM")
    hit.get_by_role("button", name="This helped: link it").click()
    expect(hit.get_by_role("status")).to_have_text("Linked to this case.")
    article = ana.api("GET", f"/api/articles/{article_id}").json()
    assert article["reuse_count"] == 1
    assert article["reuses"][0]["case_id"] == new_case
    # the solved case it came from is there too: linking it records that reuse as well
    solved = panel.locator(f'[data-id="{case_id}"]')
    expect(solved).to_contain_text("solved case")
    solved.get_by_role("button", name="This helped: link it").click()
    expect(solved.get_by_role("status")).to_have_text("Linked to this case.")
    assert ana.api("GET", f"/api/cases/{case_id}").json()["reuse_count"] == 1

    # and by search, with the word highlighted
    c.get_by_role("link", name="Knowledge").click()
    c.get_by_label("Search knowledge").fill(word)
    c.get_by_role("button", name="Search", exact=True).click()
    results = c.get_by_role("list", name="Search results")
    first = results.locator(f'[data-id="{article_id}"]')
    expect(first).to_be_visible()
    expect(first.locator("mark").first).to_have_text(re.compile(word, re.IGNORECASE))
    assert chen.axe() == []
