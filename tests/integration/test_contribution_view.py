"""Contribution per agent on both backends: the projector's documents hold the
hand-counted figures (reuses of the articles an agent wrote included), and equal a replay
of the log (`projections.rebuild.verify`, what `swarmdesk rebuild` folds)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from app.matching_settings import MatchingSettings
from app.service.matching import reputation
from app.store import EventStore
from app.store.codec import decode
from domain import Case
from projections.changes import load_view
from projections.rebuild import verify
from tests.conftest import Database
from tests.knowledge_support import append_all, article_of, solved_case
from tests.views_support import MAPPER, actor, append, briefing_case, projector_for


async def test_contribution_counts_and_replay(database: Database, store: EventStore) -> None:
    owner, expert, other, helper = actor("Olga"), actor("Ed"), actor("Otto"), actor("Hal")
    case = briefing_case(owner, expert, other)  # Ed joins by invitation, posts an insight
    # that the accepted proposal (his) cites; Otto's invitation stays pending
    case.decline_invitation(other, reason="busy")
    due = datetime(2026, 1, 1, tzinfo=UTC)
    case.invite_expert(owner, invitation_id=uuid.uuid4(), expert_id=other.id, reason="again",
                       expires_at=due)  # fmt: skip
    case.expire_invitation(owner, invitation_id=case.pending_invitations[other.id], now=due)
    case.join(helper)  # offers help on the open swarm request
    second = briefing_case(owner, expert, actor("Ann"))
    projector = projector_for(store, database.url, database.schema)
    projector.start()
    try:
        await append(store, case)
        last = await append(store, second)
        assert await projector.wait_for(last, 10)
        engine = projector.engine
        found = await load_view(engine, "contribution", str(expert.id))
        assert found is not None
        ed = found[1]
        assert ed["position"] == found[0]
        assert (ed["insights_posted"], ed["insights_cited"], ed["proposals_accepted"]) == (2, 2, 2)
        assert (ed["invitations"], ed["joined_by_invitation"], ed["help_offered"]) == (2, 2, 0)
        assert len(ed["join_seconds"]) == 2
        assert ed["median_join_seconds"] is not None
        assert sorted(ed["swarms"]) == sorted([str(case.id), str(second.id)])
        otto = await load_view(engine, "contribution", str(other.id))
        assert otto is not None
        assert (otto[1]["declines"], otto[1]["expired"], otto[1]["invitations"]) == (1, 1, 2)
        assert len(otto[1]["declined_at"]) == 2
        hal = await load_view(engine, "contribution", str(helper.id))
        assert hal is not None
        assert hal[1]["help_offered"] == 1
        # resolving the first case ends both experts' swarm there
        case.resolve(owner, summary="fixed")
        last = await append(store, case)
        assert await projector.wait_for(last, 10)
        ed_now = await load_view(engine, "contribution", str(expert.id))
        assert ed_now is not None
        assert ed_now[1]["swarms"] == [str(second.id)]
        hal_now = await load_view(engine, "contribution", str(helper.id))
        assert hal_now is not None
        assert hal_now[1]["swarms"] == []

        # the stored documents equal a replay of the log
        async def read(after: int, limit: int, upto: int) -> list[Any]:
            return await store.read(after, limit, until=upto)

        tracked, diffs = await verify(engine, read, lambda r: decode(MAPPER, r))
        assert tracked == last
        assert diffs == []
    finally:
        await projector.close()
        await projector.engine.dispose()


async def test_reuses_count_for_the_articles_authors_and_replay(
    database: Database, store: EventStore
) -> None:
    """Each `Reused` counts once for every author of the article as it stood (the
    owner's problem statement, the expert's cited insight and proposal); the reuser gains
    nothing; reputation adds `POINTS_REUSED` per reuse; the documents equal a replay."""
    owner, expert, reader = actor("Olga"), actor("Ed"), actor("Ann")
    solved, events = solved_case(owner, expert, subject="Card loops", finding="3DS retries.")
    article = article_of(owner, events)
    article.publish(owner)
    later = [Case.open(reader, customer="ACME", subject=f"Loop {n}") for n in range(2)]
    for case in later:
        article.record_reuse(reader, case_id=case.id)
    projector = projector_for(store, database.url, database.schema)
    projector.start()
    try:
        last = await append_all(store, solved, *later, article)
        assert await projector.wait_for(last, 10)
        engine = projector.engine
        stored = await load_view(engine, "article", str(article.id))
        assert stored is not None
        assert sorted(stored[1]["authors"]) == sorted([str(owner.id), str(expert.id)])
        ed = await load_view(engine, "contribution", str(expert.id))
        olga = await load_view(engine, "contribution", str(owner.id))
        assert ed is not None
        assert olga is not None
        assert ed[1]["articles_reused"] == 2
        assert olga[1]["articles_reused"] == 2
        assert ed[1]["position"] == last  # the last reuse moved it
        ann = await load_view(engine, "contribution", str(reader.id))
        assert ann is None or ann[1]["articles_reused"] == 0
        weights = MatchingSettings()
        assert weights.points_reused == 1.0
        # Ed: an insight (.5), cited (2), a proposal accepted (3), two reuses (2 x 1)
        assert reputation(ed[1], weights)[0] == 7.5
        assert reputation(olga[1], weights)[0] == 2.0  # the reuses only

        async def read(after: int, limit: int, upto: int) -> list[Any]:
            return await store.read(after, limit, until=upto)

        tracked, diffs = await verify(engine, read, lambda r: decode(MAPPER, r))
        assert tracked == last
        assert diffs == []
    finally:
        await projector.close()
        await projector.engine.dispose()
