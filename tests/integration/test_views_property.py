"""Property: over random valid command sequences, three views of every case and inbox agree.

Commands are drawn (kind, case, actor, seed) and executed through the domain; a command
the rules refuse (`DomainError`, raised before any event) is skipped, so every appended
history is a valid one. Each accepted command is appended at once (cases interleave in
the log). A projector follows the log; at a drawn step a client takes a snapshot (the
stored document and its position), and at the end we require, per document:

    stored view == view replayed from the log (`projections.rebuild.replay`)
                == snapshot + every later ViewChange's ops (`read_changes`, applied
                   with `jsonpatch`, an independent RFC 6902 implementation)

and `verify` (all read-model tables, derived rows included) finds no difference.

One database per test (a SQLite file; a PostgreSQL schema), a fresh store and projector
per example, fresh case and agent ids per example: each example runs in its own event
loop (`asyncio.run`), as hypothesis and async fixtures do not mix.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import jsonpatch
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.store.codec import decode
from app.store.factory import asyncpg_dsn
from app.store.migrate import upgrade_async
from app.store.postgres import PostgresEventStore
from domain import Actor, Case, Role
from domain.errors import DomainError
from projections.case_view import INSIGHTS_WINDOW, PROPOSALS_WINDOW, TIMELINE_MAX
from projections.changes import load_view, read_all_changes, read_changes
from projections.item_queries import item_page_text
from projections.list_queries import load_list, load_list_index, read_list_changes
from projections.lists import ALL_CASES, ALL_KEY, MYCASES, ListIndex
from projections.rebuild import replay, verify
from tests.conftest import Database
from tests.support import PG_URL, drop_schema_sql, fresh_schema, require_postgres
from tests.views_support import MAPPER, append, canonical, projector_for

KINDS = [
    "context",
    "message",
    "swarm",
    "invite",
    "decline",
    "join",
    "leave",
    "ack",
    "insight",
    "propose",
    "accept",
    "reject",
    "resolve",
    "reopen",
    "close",
    "transfer",
    "priority",
    "burst",
]
CASES = 3
#: A "burst" posts more insights and proposals than the case document's windows hold
#: (`projections.case_view`), so the windows' patches and the rows beyond them are tested.
BURST_INSIGHTS = INSIGHTS_WINDOW + 1
BURST_PROPOSALS = PROPOSALS_WINDOW + 1
Step = tuple[str, int, int, int]  # (kind, case index, actor index, seed)

steps_strategy = st.lists(
    st.tuples(
        st.sampled_from(KINDS),
        st.integers(0, CASES - 1),
        st.integers(0, 4),  # agents 0..3, 4 = the supervisor
        st.integers(0, 2**16),
    ),
    min_size=5,
    max_size=40,
)


class World:
    """The cases and actors of one example, and the ids each case has handed out."""

    def __init__(self) -> None:
        self.actors = [Actor(uuid.uuid4(), Role.AGENT, f"Agent {i}") for i in range(4)]
        self.actors.append(Actor(uuid.uuid4(), Role.SUPERVISOR, "Sue"))
        self.cases: dict[int, Case] = {}
        self.insights: dict[int, list[uuid.UUID]] = {}
        self.proposals: dict[int, list[uuid.UUID]] = {}

    def run(self, step: Step) -> Case | None:
        """Execute one drawn command, as the drawn actor or else the next one the rules
        allow (so that few draws are wasted); the case it changed, or None when every
        actor was refused."""
        kind, index, who, seed = step
        for turn in range(len(self.actors)):
            case = self._run(kind, index, (who + turn) % len(self.actors), seed + turn)
            if case is not None:
                return case
        return None

    def _run(self, kind: str, index: int, who: int, seed: int) -> Case | None:
        rnd = random.Random(seed)
        actor = self.actors[who]
        case = self.cases.get(index)
        try:
            if case is None:
                case = Case.open(
                    actor,
                    customer=f"Customer {seed}",
                    subject=f"Subject {seed}",
                    priority=rnd.choice(["low", "normal", "high", "urgent"]),
                )
                self.cases[index], self.insights[index], self.proposals[index] = case, [], []
                return case
            self._command(kind, index, case, actor, rnd)
        except DomainError:
            assert case is None or not case.pending_events, "a refusal records nothing"
            return None
        return case

    def _command(self, kind: str, index: int, case: Case, actor: Actor, rnd: random.Random) -> None:
        other = rnd.choice(self.actors[:4])
        text = f"text {rnd.randrange(1000)}"
        insights, proposals = self.insights[index], self.proposals[index]
        commands: dict[str, Callable[[], None]] = {
            "context": lambda: case.add_context(
                actor,
                context_id=uuid.uuid4(),
                kind=rnd.choice(["symptom", "hypothesis"]),
                text=text,
            ),
            "message": lambda: case.log_customer_message(
                actor, message_id=uuid.uuid4(), direction="inbound", text=text
            ),
            "swarm": lambda: case.request_swarm(
                actor, request_id=uuid.uuid4(), help_needed=text, skills_wanted=["pg"]
            ),
            "invite": lambda: case.invite_expert(
                actor, invitation_id=uuid.uuid4(), expert_id=other.id, reason=text
            ),
            "decline": lambda: case.decline_invitation(actor, reason=text),
            "join": lambda: case.join(actor),
            "leave": lambda: case.leave(actor, note=text),
            "ack": lambda: case.acknowledge_briefing(actor, version=rnd.randint(1, case.version)),
            "insight": lambda: self._insight(case, actor, rnd, insights, text),
            "propose": lambda: self._propose(case, actor, rnd, insights, proposals, text),
            "accept": lambda: case.accept_proposal(actor, proposal_id=_pick(rnd, proposals)),
            "reject": lambda: case.reject_proposal(
                actor, proposal_id=_pick(rnd, proposals), reason=text
            ),
            "resolve": lambda: case.resolve(actor, summary=text),
            "reopen": lambda: case.reopen(actor, reason=text),
            "close": lambda: case.close(actor, note=text),
            "transfer": lambda: case.transfer_ownership(
                actor, to_owner_id=other.id, to_owner_name=other.name, handoff_note=text
            ),
            "priority": lambda: case.change_priority(
                actor, priority=rnd.choice(["low", "normal", "high", "urgent"]), reason=text
            ),
            "burst": lambda: self._burst(case, actor, rnd, insights, proposals, text),
        }
        commands[kind]()

    def _insight(
        self, case: Case, actor: Actor, rnd: random.Random, insights: list[uuid.UUID], text: str
    ) -> None:
        iid = uuid.uuid4()
        mentions = [a.id for a in rnd.sample(self.actors, rnd.randint(0, 3))]
        case.post_insight(actor, insight_id=iid, kind="finding", text=text, mentions=mentions)
        insights.append(iid)

    def _propose(
        self,
        case: Case,
        actor: Actor,
        rnd: random.Random,
        insights: list[uuid.UUID],
        proposals: list[uuid.UUID],
        text: str,
    ) -> None:
        pid = uuid.uuid4()
        cites = rnd.sample(insights, rnd.randint(0, len(insights)))
        case.propose_resolution(actor, proposal_id=pid, summary=text, steps=["a"], cites=cites)
        proposals.append(pid)

    def _burst(
        self,
        case: Case,
        actor: Actor,
        rnd: random.Random,
        insights: list[uuid.UUID],
        proposals: list[uuid.UUID],
        text: str,
    ) -> None:
        """Insights, then proposals, past the windows (the first refusal records nothing:
        the same rules hold for the rest)."""
        for _ in range(BURST_INSIGHTS):
            self._insight(case, actor, rnd, insights, text)
        for _ in range(BURST_PROPOSALS):
            self._propose(case, actor, rnd, insights[-60:], proposals, text)


def _pick(rnd: random.Random, ids: list[uuid.UUID]) -> uuid.UUID:
    return rnd.choice(ids) if ids else uuid.uuid4()  # unknown id: refused by the rules


async def _example(db: Database, steps: list[Step], split: int) -> None:
    world = World()
    async with db.store() as store:
        # PostgreSQL: the production path (asyncpg, one statement per batch, own connection)
        pg = store if isinstance(store, PostgresEventStore) else None
        fast = {"pool": pg.pool, "connect": pg.connect_derived} if pg is not None else {}
        projector = projector_for(store, db.url, db.schema, batch_size=7, **fast)
        projector.start()
        try:
            engine = projector.engine
            last = await store.max_position()
            snapshot: dict[tuple[str, str], tuple[int, Any]] = {}
            feed_from, lists = 0, ListIndex()
            for i, step in enumerate(steps):
                if i == split:  # a client connects: snapshot of every document so far
                    assert await projector.wait_for(last, 20)
                    snapshot = await _snapshots(engine, world)
                    feed_from, lists = await load_list_index(engine)  # a feed starts
                case = world.run(step)
                if case is not None:
                    last = await append(store, case)
            assert await projector.wait_for(last, 20)

            async def read(after: int, limit: int, upto: int) -> Any:
                return await store.read(after, limit, until=upto)

            replayed = (await replay(read, lambda r: decode(MAPPER, r), last)).views.docs
            for view, key in _documents(world):
                found = await load_view(engine, view, key)
                assert found is not None or view == "inbox", (view, key)
                stored = found[1] if found is not None else None
                assert canonical(stored) == canonical(replayed.get((view, key))), (view, key)
                after, client = snapshot.get((view, key), (0, None))
                for change in await read_changes(engine, view, key, after, 100_000):
                    client = jsonpatch.apply_patch(client if client is not None else {}, change.ops)
                assert canonical(client) == canonical(stored), (view, key)
            await _check_lists(engine, world, snapshot, feed_from, lists)
            await _check_windows(engine, world)
            if view_case := next(iter(world.cases.values()), None):
                found = await load_view(engine, "case", str(view_case.id))
                assert found is not None
                assert found[1]["version"] == view_case.version
            tracked, diffs = await verify(engine, read, lambda r: decode(MAPPER, r))
            assert tracked == last
            assert diffs == []
        finally:
            await projector.close()
            await projector.engine.dispose()


async def _check_lists(
    engine: Any,
    world: World,
    snapshot: dict[tuple[str, str], tuple[int, Any]],
    feed_from: int,
    lists: ListIndex,
) -> None:
    """Each live list (`projections.lists`: a case's shared change stored once, fanned
    out on read) as stored == the snapshot + its changes replayed (`read_list_changes`,
    as a client resuming gets them) == the snapshot + the changes a push feed started
    at the snapshot hands out (`ListIndex.expand`)."""
    fed: dict[tuple[str, str], list[Any]] = {}
    for change in lists.expand(await read_all_changes(engine, feed_from, 10**6)):
        fed.setdefault((change.view, change.key), []).append(change)
    keys = [(MYCASES, str(a.id)) for a in world.actors] + [(ALL_CASES, ALL_KEY)]
    for view, key in keys:
        position, stored = await load_list(engine, view, key)
        after, start = snapshot.get((view, key), (0, {"cases": {}}))
        async with engine.connect() as conn:
            replayed = await read_list_changes(conn, view, key, after, 10**6)
        assert replayed is not None
        for name, changes in (("replay", replayed), ("feed", fed.get((view, key), []))):
            doc = start
            for change in changes:
                doc = jsonpatch.apply_patch(doc, change.ops)
            assert canonical(doc) == canonical(stored), (name, view, key)
        assert position == (replayed[-1].position if replayed else after), (view, key)


async def _check_windows(engine: Any, world: World) -> None:
    """Each case document's windows are the newest of its items, and its items are every
    one the case handed out, in order (as the pages give them)."""
    windows = {
        "insight": ("insights", INSIGHTS_WINDOW, world.insights),
        "proposal": ("proposals", PROPOSALS_WINDOW, world.proposals),
    }
    for index, case in world.cases.items():
        found = await load_view(engine, "case", str(case.id))
        assert found is not None
        doc = found[1]
        for kind, (member, window, ids) in windows.items():
            text = await item_page_text(engine, str(case.id), kind, None, 100_000)
            items = json.loads(text)["items"]
            assert [i["id"] for i in items] == [str(i) for i in ids[index]]
            assert doc[member] == items[-window:]
            assert doc["totals"][member] == len(items)
        timeline = json.loads(await item_page_text(engine, str(case.id), "timeline", None, 10**6))
        assert [t["version"] for t in timeline["items"]] == list(range(1, case.version + 1))
        assert doc["timeline"] == timeline["items"][-TIMELINE_MAX:]


def _documents(world: World) -> list[tuple[str, str]]:
    cases = [("case", str(c.id)) for c in world.cases.values()]
    return cases + [("inbox", str(a.id)) for a in world.actors]


async def _snapshots(engine: Any, world: World) -> dict[tuple[str, str], tuple[int, Any]]:
    out = {}
    for view, key in _documents(world):
        found = await load_view(engine, view, key)
        if found is not None:
            out[(view, key)] = found
    for agent in world.actors:
        out[(MYCASES, str(agent.id))] = await load_list(engine, MYCASES, str(agent.id))
    out[(ALL_CASES, ALL_KEY)] = await load_list(engine, ALL_CASES, ALL_KEY)
    return out


@contextlib.contextmanager
def _database(backend: str, tmp_path: Path) -> Iterator[Database]:
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'views.db'}"
        asyncio.run(upgrade_async(url))
        yield Database("sqlite", url)
        return
    require_postgres()
    schema = fresh_schema()
    asyncio.run(upgrade_async(PG_URL, schema=schema))
    try:
        yield Database("postgres", PG_URL, schema)
    finally:

        async def drop() -> None:
            conn = await asyncpg.connect(asyncpg_dsn(PG_URL))
            try:
                await conn.execute(drop_schema_sql(schema))
            finally:
                await conn.close()

        asyncio.run(drop())


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_stored_replayed_and_pushed_views_agree(backend: str, tmp_path: Path) -> None:
    with _database(backend, tmp_path) as db:

        @settings(
            max_examples=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        )
        @given(steps=steps_strategy, split=st.integers(0, 40))
        def check(steps: list[Step], split: int) -> None:
            asyncio.run(_example(db, steps, split))

        check()
