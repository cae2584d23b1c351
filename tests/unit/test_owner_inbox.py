"""The owner's inbox and the authors' contribution, folded from given events (no I/O):
a declined and an expired invitation each append one item to the case owner's inbox
(written out by hand), beside the invitee's own status change; a reuse of an article
counts once for each of its authors as the article stood."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from domain import Actor, Case, Role
from domain.article import Article
from domain.knowledge import compose
from projections.envelope import Envelope
from projections.fold import ViewSet

OWNER = Actor(uuid.uuid4(), Role.AGENT, "Olga")
ADA = Actor(uuid.uuid4(), Role.AGENT, "Ada")
BO = Actor(uuid.uuid4(), Role.AGENT, "Bo")
DUE = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


def _fold(*aggregates: Any) -> ViewSet:
    views = ViewSet()
    position = 0
    for aggregate in aggregates:
        for event in aggregate.collect_events():
            position += 1
            views.fold(Envelope(position, event))
    return views


def test_a_decline_and_an_expiry_reach_the_owner() -> None:
    case = Case.open(OWNER, customer="ACME", subject="Checkout loops")
    first, second = uuid.uuid4(), uuid.uuid4()
    case.invite_expert(OWNER, invitation_id=first, expert_id=ADA.id, reason="3DS")
    case.invite_expert(OWNER, invitation_id=second, expert_id=BO.id, reason="db", expires_at=DUE)
    case.decline_invitation(ADA, reason="  on call  ")
    case.expire_invitation(OWNER, invitation_id=second, now=DUE)
    views = _fold(case)
    owner_inbox = views.docs[("inbox", str(OWNER.id))]
    assert owner_inbox is not None
    got = [{k: v for k, v in item.items() if k != "at"} for item in owner_inbox["items"]]
    link = f"/cases/{case.id}"
    assert got == [
        {"id": str(first), "kind": "invitation_declined", "case_id": str(case.id),
         "subject": "Checkout loops", "position": 4, "expert_id": str(ADA.id),
         "reason": "on call", "link": link, "suggestions": f"/api/cases/{case.id}/suggestions"},
        {"id": str(second), "kind": "invitation_expired", "case_id": str(case.id),
         "subject": "Checkout loops", "position": 5, "expert_id": str(BO.id),
         "reason": None, "link": link, "suggestions": f"/api/cases/{case.id}/suggestions"},
    ]  # fmt: skip
    assert owner_inbox["position"] == 5
    for who, status in ((ADA, "declined"), (BO, "expired")):
        theirs = views.docs[("inbox", str(who.id))]
        assert theirs is not None
        assert [(i["kind"], i["status"]) for i in theirs["items"]] == [("invitation", status)]


def test_a_join_tells_the_owner_nothing() -> None:
    case = Case.open(OWNER, customer="ACME", subject="Checkout loops")
    case.invite_expert(OWNER, invitation_id=uuid.uuid4(), expert_id=ADA.id, reason="3DS")
    case.join(ADA)
    views = _fold(case)
    assert views.docs.get(("inbox", str(OWNER.id))) is None


def test_a_reuse_counts_for_each_author_as_the_article_stood() -> None:
    case = Case.open(OWNER, customer="ACME", subject="Checkout loops")
    case.invite_expert(OWNER, invitation_id=uuid.uuid4(), expert_id=ADA.id, reason="3DS")
    case.join(ADA)
    insight, proposal = uuid.uuid4(), uuid.uuid4()
    case.post_insight(ADA, insight_id=insight, kind="finding", text="The 3DS retry loops.")
    case.propose_resolution(ADA, proposal_id=proposal, summary="Turn retries off.",
                            cites=[insight])  # fmt: skip
    case.accept_proposal(OWNER, proposal_id=proposal)
    case.resolve(OWNER, summary="Done.", proposal_id=proposal)
    article = Article.draft(OWNER, compose(list(case.pending_events)))
    article.publish(OWNER)
    article.record_reuse(BO, case_id=uuid.uuid4())
    article.record_reuse(BO, case_id=uuid.uuid4())
    views = _fold(case, article)
    doc = views.docs[("article", str(article.id))]
    assert doc is not None
    assert sorted(doc["authors"]) == sorted([str(OWNER.id), str(ADA.id)])
    for author in (OWNER, ADA):
        contribution = views.docs[("contribution", str(author.id))]
        assert contribution is not None
        assert contribution["articles_reused"] == 2
    assert views.docs.get(("contribution", str(BO.id))) is None  # reusing is not writing
