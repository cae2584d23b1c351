"""`swarmdesk rebuild` with the fold in worker processes (`projections.parallel`)
stores exactly the tables of the fold in process, and a worker's failure surfaces."""

from __future__ import annotations

import multiprocessing
import uuid
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent

from app.store import EventStore
from app.store.codec import decode
from app.store.errors import EventDecodeError
from app.store.replay_codec import packed_decoder, replay_decoder
from app.store.types import AppendRequest
from domain import Actor, Case
from projections.db import create_views_engine
from projections.inbox_view import INBOX_MAX
from projections.pages import FIRST_PAGE
from projections.parallel import WorkerFailed, Workers
from projections.rebuild import rebuild, stored_rows, verify
from projections.writer import read_tracking
from tests.conftest import Database
from tests.knowledge_support import article_of, solved_case
from tests.views_support import MAPPER, actor, agent, append, briefing_case

pytestmark = pytest.mark.postgres


def _reader(store: EventStore) -> Any:
    async def read(after: int, limit: int, upto: int) -> Any:
        return await store.read(after, limit, until=upto)

    return read


async def _log(store: EventStore) -> int:
    """Cases of every event type, interleaved; one inbox past INBOX_MAX; agents; an
    article reused."""
    owner, expert, other, third = actor("Olga"), actor("Ed"), actor("Otto"), actor("Tia")
    cases = [briefing_case(owner, expert, other) for _ in range(5)]
    for i, case in enumerate(cases):
        if i % 2:
            case.resolve(owner, summary="done")
            case.reopen(owner, reason="again")
        case.invite_expert(owner, invitation_id=uuid.uuid4(), expert_id=third.id, reason="x")
        if i % 2:
            case.decline_invitation(third, reason="no")  # an item in the owner's inbox
        case.transfer_ownership(owner, to_owner_id=expert.id, handoff_note="yours")
        case.close(expert, note="bye")
    busy = _busy_case(owner, expert, INBOX_MAX + FIRST_PAGE)
    ada = agent("Ada")
    ada.update_profile(Actor(ada.id, owner.role, "Ada"), capacity=3, interests=["pg"])
    # an article reused twice: its authors' contributions come from an article stream
    solved, events = solved_case(owner, expert, subject="Loops")
    article = article_of(owner, events)
    article.publish(owner)
    for case in cases[:2]:
        article.record_reuse(third, case_id=case.id)
    last = 0
    for aggregate in [*cases, busy, ada, agent("Bo"), solved, article]:
        last = await append(store, aggregate)
    assert last > FIRST_PAGE  # more than one page
    return last


def _busy_case(owner: Actor, expert: Actor, insights: int) -> Case:
    case = Case.open(owner, customer="ACME", subject="Busy", description="many")
    case.invite_expert(owner, invitation_id=uuid.uuid4(), expert_id=expert.id, reason="x")
    case.join(expert)
    for i in range(insights):
        case.post_insight(
            expert, insight_id=uuid.uuid4(), kind="finding", text=f"n{i}", mentions=[owner.id]
        )
    return case


def _sorted(tables: dict[str, list[dict[str, Any]]]) -> dict[str, list[str]]:
    return {name: sorted(repr(sorted(r.items())) for r in rows) for name, rows in tables.items()}


async def _tables(engine: Any) -> tuple[int, dict[str, list[str]]]:
    async with engine.connect() as conn:
        return await read_tracking(conn), _sorted(await stored_rows(conn))


async def test_parallel_rebuild_stores_the_sequential_tables(pg_database: Database) -> None:
    engine = create_views_engine(pg_database.url, schema=pg_database.schema)
    try:
        async with pg_database.store() as store:
            last = await _log(store)
            read = _reader(store)
            one = await rebuild(engine, read, replay_decoder(), last)
            sequential = await _tables(engine)
            many = await rebuild(
                engine, read, replay_decoder(), last, workers=Workers(3, packed_decoder)
            )
            parallel = await _tables(engine)
            await rebuild(engine, read, replay_decoder(), last, workers=Workers(1, packed_decoder))
            assert await _tables(engine) == sequential
            assert sequential[0] == last
            assert len(sequential[1]["view_changes"]) > last
            assert parallel == sequential
            assert (many.position, many.events) == (one.position, one.events) == (last, last)
            _, diffs = await verify(engine, read, lambda r: decode(MAPPER, r))
            assert diffs == []
    finally:
        await engine.dispose()
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize(
    ("slot", "raised"), [(1, WorkerFailed), (0, EventDecodeError)], ids=["worker", "here"]
)
async def test_a_decode_failure_raises_and_leaves_the_views(
    pg_database: Database, slot: int, raised: type[Exception]
) -> None:
    """Slot 0 of 2 * workers + 1 is this process's share (`projections.parallel`)."""
    engine = create_views_engine(pg_database.url, schema=pg_database.schema)
    try:
        async with pg_database.store() as store:
            last = await _log(store)
            read = _reader(store)
            await rebuild(engine, read, replay_decoder(), last)
            before = await _tables(engine)
            oid = next(u for u in iter(uuid.uuid4, None) if u.int % 5 == slot)
            corrupt = StoredEvent(oid, 1, "domain.case:Case.Opened", b"{not json")
            bad = (await store.append(AppendRequest(events=[corrupt]))).position
            with pytest.raises(raised) as failed:
                await rebuild(
                    engine, read, replay_decoder(), bad, workers=Workers(2, packed_decoder)
                )
            assert "EventDecodeError" in f"{failed.value!r} {failed.value}"
            assert await _tables(engine) == before  # the live tables and tracking
    finally:
        await engine.dispose()
    assert multiprocessing.active_children() == []
