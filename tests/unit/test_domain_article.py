"""Articles: the draft's contents and provenance from given case events, edits that keep
provenance, and the article's rules (no I/O)."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest

from domain import Actor, Case, InvalidInput, InvalidTransition, NotAllowed, Role
from domain.article import Article, article_id_for
from domain.knowledge import compose, revise, sentences
from tests.unit.test_domain_support import EXPERT, OTHER, OWNER, SUPERVISOR, open_case

I1, I2, I3 = (UUID(f"00000000-0000-4000-8000-00000000001{n}") for n in (1, 2, 3))
P1 = UUID("00000000-0000-4000-8000-000000000021")
CAUSE = ["The 4.2 build lost the proxy.", "The proxy drops the header."]


def swarmed_case(*, resolve: bool = True, cite: bool = True) -> tuple[Case, list[Any]]:
    """A case solved by a swarm: every event it recorded, in order."""
    case = open_case(subject="SSO login fails", description="Nobody can log in. Since Monday.")
    case.add_context(OWNER, context_id=uuid4(), kind="symptom", text="Error 502 at the IdP.")
    case.add_context(OWNER, context_id=uuid4(), kind="environment", text="Okta, build 4.2.")
    case.add_context(OWNER, context_id=uuid4(), kind="hypothesis", text="Maybe DNS.")
    case.invite_expert(OWNER, invitation_id=uuid4(), expert_id=EXPERT.id, reason="SSO")
    case.join(EXPERT, expert_name=EXPERT.name)
    case.post_insight(EXPERT, insight_id=I1, kind="finding", text="The proxy drops the header.")
    case.post_insight(OWNER, insight_id=I2, kind="question", text="Which proxy?")
    case.post_insight(EXPERT, insight_id=I3, kind="answer", text="The 4.2 build lost the proxy.")
    case.propose_resolution(
        EXPERT,
        proposal_id=P1,
        summary="Restore the proxy setting.",
        steps=["Open the admin console.", "Set the proxy. Restart."],
        cites=[I3, I1] if cite else [],
    )
    case.accept_proposal(OWNER, proposal_id=P1)
    if resolve:
        case.resolve(OWNER, summary="Fixed.", proposal_id=P1)
    return case, list(case.collect_events())


def texts(article: Article, section: str) -> list[str]:
    return [s["text"] for s in article.sections[section]]


def test_draft_is_structured_from_the_swarm_with_each_sentences_source() -> None:
    case, events = swarmed_case()
    article = Article.draft(OWNER, compose(events))
    assert article.id == article_id_for(case.id)
    assert article.title == "SSO login fails"
    assert texts(article, "problem") == [
        "SSO login fails",
        "Nobody can log in.",
        "Since Monday.",
        "Error 502 at the IdP.",
    ]
    assert texts(article, "environment") == ["Product area: identity.", "Okta, build 4.2."]
    # the insights the proposal cites, in its order; not the question, not the hypothesis
    assert texts(article, "cause") == CAUSE
    assert texts(article, "resolution") == [
        "Restore the proxy setting.",
        "Open the admin console.",
        "Set the proxy.",
        "Restart.",
    ]
    by_version = {e.originator_version: e for e in events}
    for section in article.sections.values():
        for sentence in section:
            source = sentence["source"]
            event = by_version[source["version"]]
            assert source["event"] == type(event).__name__
            assert source["stream_id"] == str(case.id)
            assert source["at"] == event.timestamp.isoformat()
    cause = article.sections["cause"]
    assert [c["source"]["author_id"] for c in cause] == [str(EXPERT.id)] * 2
    assert cause[0]["source"]["event"] == "InsightPosted"
    assert article.sections["problem"][3]["source"]["event"] == "ContextAdded"
    assert {s["source"]["author_id"] for s in article.sections["resolution"]} == {str(EXPERT.id)}


def test_draft_refused_when_not_resolved_not_citing_or_not_the_owner() -> None:
    _, events = swarmed_case(resolve=False)
    with pytest.raises(InvalidTransition):
        Article.draft(OWNER, compose(events))
    case = open_case()
    case.resolve(OWNER, summary="Solved alone.")
    with pytest.raises(InvalidTransition):  # resolved, but citing no accepted proposal
        Article.draft(OWNER, compose(list(case.collect_events())))
    _, events = swarmed_case()
    for actor in (EXPERT, SUPERVISOR, Actor(OWNER.id, Role.SERVICE, "bot")):
        with pytest.raises(NotAllowed):
            Article.draft(actor, compose(events))


def test_reopened_case_is_not_resolved_any_more() -> None:
    case, events = swarmed_case()
    case.reopen(OWNER, reason="Came back.")
    with pytest.raises(InvalidTransition):
        Article.draft(OWNER, compose([*events, *case.collect_events()]))


def test_edit_keeps_the_source_of_surviving_sentences_and_marks_the_editors() -> None:
    _, events = swarmed_case()
    article = Article.draft(OWNER, compose(events))
    before = {s["text"]: s["source"] for s in article.sections["resolution"]}
    article.edit(
        OWNER,
        sections={
            "resolution": "Restore the proxy setting. Open the admin console. "
            "Set the proxy host. Restart. Check the login works."
        },
    )
    after = article.sections["resolution"]
    assert [s["text"] for s in after] == [
        "Restore the proxy setting.",
        "Open the admin console.",
        "Set the proxy host.",
        "Restart.",
        "Check the login works.",
    ]
    for kept in (0, 1, 3):
        assert after[kept]["source"] == before[after[kept]["text"]]
    rewritten, added = after[2]["source"], after[4]["source"]
    for source in (rewritten, added):
        assert source["event"] == "Edited"
        assert source["author_id"] == str(OWNER.id)
        assert source["version"] == article.version
        assert source["stream_id"] == str(article.id)
    assert rewritten["was"] == before["Set the proxy."]  # a close rewrite names its origin
    assert "was" not in added
    assert texts(article, "cause") == CAUSE


def test_revise_is_a_sentence_level_diff() -> None:
    src = {"event": "X"}
    old = {"problem": [{"text": t, "source": {"n": i}} for i, t in enumerate(["A a.", "B b."])]}
    out = revise(old, {"problem": "Z z. A a. B b."}, src)
    assert [s["source"] for s in out["problem"]] == [src, {"n": 0}, {"n": 1}]
    assert out["cause"] == []
    bang = "\uff01"  # full-width exclamation mark
    expected = ["重启服务。", f"然后检查日志{bang}", "ok"]
    assert sentences(f"重启服务。然后检查日志{bang}ok") == expected


def test_rules_of_publish_flag_retire_and_reuse() -> None:
    case, events = swarmed_case()
    article = Article.draft(OWNER, compose(events))
    with pytest.raises(NotAllowed):
        article.edit(OTHER, title="Mine now")
    with pytest.raises(InvalidInput):
        article.edit(OWNER)
    with pytest.raises(InvalidTransition):  # a draft cannot be reused or flagged
        article.record_reuse(OTHER, case_id=uuid4())
    with pytest.raises(InvalidTransition):
        article.flag(OTHER, reason="wrong")
    article.publish(SUPERVISOR)
    assert article.status == "published"
    with pytest.raises(InvalidTransition):
        article.publish(OWNER)
    other_case = uuid4()
    article.record_reuse(OTHER, case_id=other_case)
    with pytest.raises(InvalidTransition):  # once per case
        article.record_reuse(EXPERT, case_id=other_case)
    with pytest.raises(InvalidTransition):  # not by its own case
        article.record_reuse(OWNER, case_id=case.id)
    with pytest.raises(InvalidInput):
        article.flag(OTHER, reason="  ")
    article.flag(OTHER, reason="Step 2 fails on 4.3")
    assert (article.status, article.flags) == ("flagged", ["Step 2 fails on 4.3"])
    article.publish(OWNER)
    assert (article.status, article.flags) == ("published", [])
    with pytest.raises(NotAllowed):
        article.retire(OTHER)
    article.retire(OWNER, reason="Superseded")
    with pytest.raises(InvalidTransition):
        article.edit(SUPERVISOR, title="Back")
    kinds = [type(e).__name__ for e in article.collect_events()]
    assert kinds == ["Drafted", "Published", "Reused", "Flagged", "Published", "Retired"]
