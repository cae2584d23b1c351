"""The case service's contract (`app.service.cases`), without I/O: the in-memory event
store under the real repository, services and command table; each test runs in
milliseconds. Rules: service tokens refused; strangers and unknown cases are
`CaseNotFound`; `If-Match` (`VersionMismatch`, decided once); conflicts decided again
on the newer state until a deadline; a stale cached copy reloaded;
idempotent replay (first result, nothing appended, even when the rules would now
refuse; another body is `IdempotencyKeyReused`); ids derived from the key."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest

from app.auth.tokens import Principal
from app.schemas import case_commands as cmd
from app.service.agents import AgentService
from app.service.cache import AggregateCache
from app.service.cases import CaseService
from app.service.commands import COMMANDS, Answer, Command, CommandRunner
from app.service.errors import CaseNotFound, ServiceTokensCannotCommand, VersionMismatch
from app.service.repository import Repository
from app.store import IdempotencyKeyReused, VersionConflict
from app.store.codec import create_mapper
from app.store.memory import MemoryEventStore, MemoryLog
from domain.actors import Role
from domain.case import Case
from domain.errors import DomainError
from domain.values import ContextKind, InsightKind

BY_NAME = {c.name: c for c in COMMANDS}
OWNER = Principal("owner", "Olga Owner", Role.AGENT)
EXPERT = Principal("expert", "Eve Expert", Role.AGENT)
STRANGER = Principal("stranger", "Sam Stranger", Role.AGENT)
SERVICE = Principal("svc", "Billing", Role.SERVICE)


@dataclass
class World:
    store: MemoryEventStore
    runner: CommandRunner
    cases: CaseService

    async def run(
        self,
        name: str,
        who: Principal,
        body: Any = None,
        *,
        case: UUID | None = None,
        key: str = "",
        if_match: str = "",
        **ids: UUID,
    ) -> Answer:
        command: Command = BY_NAME[name]
        if case is not None:
            ids["case_id"] = case
        path = command.path.format(**ids)
        return await self.runner.run(
            command, who, path=path, ids=ids, body=body, idempotency_key=key, if_match=if_match
        )

    async def open(self, who: Principal = OWNER, key: str = "") -> UUID:
        body = cmd.OpenCase(customer="Acme", subject="x")
        answer = await self.run("open_case", who, body, key=key)
        return UUID(str(answer.result.model_dump()["case_id"]))

    async def versions(self, case: UUID) -> list[int]:
        return [r.originator_version for r in await self.store.read_stream(case)]


def world_on(store: MemoryEventStore, deadline: float = 5.0) -> World:
    repository = Repository(store, create_mapper())
    cases = CaseService(repository, AggregateCache(), deadline)
    return World(store, CommandRunner(cases, AgentService(repository)), cases)


async def stale(world: World, case_id: UUID) -> Case:
    """The case as of version 1 (what a cache would hold before another process wrote)."""
    case = await world.cases.repository.load(Case, case_id, version=1)
    assert case is not None
    return case


@pytest.fixture
async def world() -> AsyncIterator[World]:
    store = MemoryEventStore()
    await store.start()
    try:
        yield world_on(store)
    finally:
        await store.close()


ACK = cmd.AcknowledgeBriefing(version=1)
CONTEXT = cmd.AddContext(kind=ContextKind.SYMPTOM, text="402 after 3DS")


async def test_a_command_appends_one_version_and_names_what_it_created(world: World) -> None:
    case = await world.open()
    answer = await world.run("add_context", OWNER, CONTEXT, case=case)
    result = answer.result.model_dump()
    assert result["version"] == 2
    assert isinstance(result["context_id"], UUID)
    assert await world.versions(case) == [1, 2]


async def test_service_tokens_never_command(world: World) -> None:
    with pytest.raises(ServiceTokensCannotCommand):
        await world.open(SERVICE)
    case = await world.open()
    with pytest.raises(ServiceTokensCannotCommand):
        await world.run("add_context", SERVICE, CONTEXT, case=case)
    assert await world.versions(case) == [1]


async def test_strangers_and_unknown_cases_are_not_found(world: World) -> None:
    case = await world.open()
    with pytest.raises(CaseNotFound):
        await world.run("add_context", STRANGER, CONTEXT, case=case)
    with pytest.raises(CaseNotFound):
        await world.run("add_context", OWNER, CONTEXT, case=uuid.uuid4())


async def test_a_refused_rule_appends_nothing(world: World) -> None:
    case = await world.open()
    await world.run("request_swarm", OWNER, cmd.RequestSwarm(help_needed="3DS"), case=case)
    await world.run("join_case", EXPERT, None, case=case)
    with pytest.raises(DomainError):  # only the owner resolves
        await world.run("resolve_case", EXPERT, cmd.ResolveCase(summary="done"), case=case)
    assert await world.versions(case) == [1, 2, 3]


async def test_if_match_is_checked_and_decided_once(world: World) -> None:
    case = await world.open()
    await world.run("add_context", OWNER, CONTEXT, case=case, if_match="1")
    with pytest.raises(VersionMismatch) as refused:
        await world.run("add_context", OWNER, CONTEXT, case=case, if_match='"1"')
    assert refused.value.current_version == 2
    world.store.conflict_next(case)  # another process writes before our append
    with pytest.raises(VersionMismatch) as moved:  # decided once: the case moved, 412
        await world.run("add_context", OWNER, CONTEXT, case=case, if_match="2")
    assert moved.value.current_version == 3
    assert await world.versions(case) == [1, 2, 3]  # the other process's event only


async def test_conflicts_are_decided_again_on_the_newer_state(world: World) -> None:
    case = await world.open()
    world.cases.cache.take(case)  # a cold cache: every attempt loads from the store
    world.store.conflict_next(case, times=2)  # a foreign copy of our event, twice
    answer = await world.run("acknowledge_briefing", OWNER, ACK, case=case)
    assert answer.result.model_dump()["version"] == 4  # after the two foreign versions
    assert await world.versions(case) == [1, 2, 3, 4]


async def test_conflicts_past_the_deadline_are_refused(world: World) -> None:
    """When the store cannot decide a request again in its batch (`redecide=False`),
    a command that keeps losing is refused at the deadline."""
    case = await world.open()
    blind = MemoryEventStore(world.store.log, redecide=False)
    await blind.start()
    impatient = world_on(blind, deadline=0.05)
    blind.conflict_next(case, times=1_000_000)  # another process always wins
    with pytest.raises(VersionConflict):
        await impatient.run("acknowledge_briefing", OWNER, ACK, case=case)
    await blind.close()
    versions = await world.versions(case)
    assert versions == list(range(1, len(versions) + 1))
    assert len(versions) > 2  # it kept deciding again until the deadline


async def test_a_command_that_keeps_losing_is_decided_again_in_the_batch(world: World) -> None:
    """The same pressure on a store that decides again in its batch: after the first
    conflict (which leaves a shadow), the command wins within its batch."""
    case = await world.open()
    world.store.conflict_next(case, times=1_000_000)  # another process always wins
    answer = await world_on(world.store, deadline=0.05).run(
        "acknowledge_briefing", OWNER, ACK, case=case
    )
    assert answer.result.model_dump()["version"] == len(await world.versions(case))
    world.store.conflict_next(case, times=-1_000_000)


async def test_a_stale_cached_copy_is_reloaded_and_if_match_answered_from_the_store(
    world: World,
) -> None:
    log = world.store.log
    other_store = MemoryEventStore(log)
    await other_store.start()
    try:
        other = world_on(other_store)
        case = await world.open()  # cached here at version 1
        await other.run("add_context", OWNER, CONTEXT, case=case)  # "another process"
        one_attempt = world_on(world.store)
        one_attempt.cases.cache.put(await stale(world, case))
        answer = await one_attempt.run("add_context", OWNER, CONTEXT, case=case)
        assert answer.result.model_dump()["version"] == 3
        one_attempt.cases.cache.put(await stale(world, case))
        with pytest.raises(VersionMismatch) as refused:  # answered from the store's version
            await one_attempt.run("add_context", OWNER, CONTEXT, case=case, if_match="1")
        assert refused.value.current_version == 3
    finally:
        await other_store.close()
    assert isinstance(log, MemoryLog)


async def test_idempotent_replay_returns_the_first_result_and_appends_nothing(
    world: World,
) -> None:
    case = await world.open(key="open-1")
    assert await world.open(key="open-1") == case  # the same id, derived from the key
    first = await world.run("add_context", OWNER, CONTEXT, case=case, key="k1")
    again = await world.run("add_context", OWNER, CONTEXT, case=case, key="k1")
    assert again.result == first.result
    assert await world.versions(case) == [1, 2]
    other_body = cmd.AddContext(kind=ContextKind.SYMPTOM, text="another text")
    with pytest.raises(IdempotencyKeyReused):
        await world.run("add_context", OWNER, other_body, case=case, key="k1")
    await world.run("close_case", OWNER, None, case=case, key="close")
    # the rules would now refuse a close, yet the retry answers its first result
    replay = await world.run("close_case", OWNER, None, case=case, key="close")
    assert replay.result.model_dump()["version"] == 3
    with pytest.raises(DomainError):
        await world.run("close_case", OWNER, None, case=case, key="close-again")
    assert await world.versions(case) == [1, 2, 3]


async def test_keys_are_scoped_to_the_caller(world: World) -> None:
    a = await world.open(OWNER, key="same")
    b = await world.open(EXPERT, key="same")
    assert a != b


async def _swarm(world: World) -> UUID:
    case = await world.open()
    await world.run("request_swarm", OWNER, cmd.RequestSwarm(help_needed="3DS"), case=case)
    await world.run("join_case", EXPERT, None, case=case)
    return case


def _context(text: str) -> cmd.AddContext:
    return cmd.AddContext(kind=ContextKind.SYMPTOM, text=text)


def _insight(text: str) -> cmd.PostInsight:
    return cmd.PostInsight(kind=InsightKind.FINDING, text=text)


async def test_a_swarm_writes_at_once_without_a_single_conflict(world: World) -> None:
    case = await _swarm(world)
    batches = world.store.batches
    writers = [OWNER, EXPERT] * 16
    answers = await asyncio.gather(
        *(
            world.run("post_insight", who, _insight(f"i{n}"), case=case)
            for n, who in enumerate(writers)
        )
    )
    versions = sorted(a.result.model_dump()["version"] for a in answers)
    assert versions == list(range(4, 4 + 32))  # every command acknowledged, contiguous
    assert await world.versions(case) == list(range(1, 36))
    assert world.cases.redecided == 0  # no command had to be decided twice
    assert world.store.batches - batches < 32  # group commits carried several versions
    assert world.cases.lines == {}  # no queue is left once the case has no work


async def test_a_request_that_was_not_appended_takes_its_successors_with_it(
    world: World,
) -> None:
    case = await _swarm(world)
    first = await world.run("post_insight", OWNER, _insight("a"), case=case, key="k")
    # the same key again (a client's retry) queued with two fresh commands behind it:
    # the retry appends nothing, so the two decided on top of it are decided again
    answers = await asyncio.gather(
        world.run("post_insight", OWNER, _insight("a"), case=case, key="k"),
        world.run("post_insight", EXPERT, _insight("b"), case=case),
        world.run("post_insight", EXPERT, _insight("c"), case=case),
    )
    assert answers[0].result == first.result
    later = sorted(a.result.model_dump()["version"] for a in answers[1:])
    assert later == [5, 6]
    assert await world.versions(case) == list(range(1, 7))


async def test_two_accepts_of_different_proposals_one_wins(world: World) -> None:
    case = await _swarm(world)
    proposals = []
    for summary in ("Roll back", "Patch"):
        body = cmd.ProposeResolution(summary=summary)
        answer = await world.run("propose_resolution", EXPERT, body, case=case)
        proposals.append(answer.result.model_dump()["proposal_id"])
    outcomes = await asyncio.gather(
        *(world.run("accept_proposal", OWNER, None, case=case, proposal_id=p) for p in proposals),
        return_exceptions=True,
    )
    assert isinstance(outcomes[0], Answer)  # the first to arrive is decided first
    assert isinstance(outcomes[1], DomainError)  # a case accepts one proposal
    assert await world.versions(case) == [1, 2, 3, 4, 5, 6]


async def test_resolve_racing_an_insight(world: World) -> None:
    """Decided in arrival order: a resolve first refuses the insight (insights need an
    open case); an insight first is followed by the resolve, both succeed."""
    case = await _swarm(world)
    resolve = world.run("resolve_case", OWNER, cmd.ResolveCase(summary="done"), case=case)
    insight = world.run("post_insight", EXPERT, _insight("late"), case=case)
    resolved, late = await asyncio.gather(resolve, insight, return_exceptions=True)
    assert isinstance(resolved, Answer)
    assert isinstance(late, DomainError)
    assert await world.versions(case) == [1, 2, 3, 4]

    other = await _swarm(world)
    insight = world.run("post_insight", EXPERT, _insight("first"), case=other)
    resolve = world.run("resolve_case", OWNER, cmd.ResolveCase(summary="done"), case=other)
    first, resolved = await asyncio.gather(insight, resolve, return_exceptions=True)
    assert isinstance(first, Answer)
    assert isinstance(resolved, Answer)
    assert await world.versions(other) == [1, 2, 3, 4, 5]


async def test_snapshots_bound_loading_and_are_only_a_cache(world: World) -> None:
    repository = Repository(world.store, create_mapper(), snapshot_every=10)
    cases = CaseService(repository, AggregateCache(capacity=0))
    snapshotting = World(world.store, CommandRunner(cases, AgentService(repository)), cases)
    case = await snapshotting.open()
    for n in range(24):
        await snapshotting.run("add_context", OWNER, _context(f"c{n}"), case=case)
    await asyncio.sleep(0)  # the snapshot is written in the background
    version, _ = world.store.log.snapshots[case]
    assert version == 20  # the last multiple of 10 the case crossed
    replayed = await world.cases.repository.load(Case, case)  # no snapshots: a replay
    from_snapshot = await repository.load(Case, case)
    assert replayed is not None
    assert from_snapshot is not None
    assert from_snapshot.__dict__ == replayed.__dict__
    world.store.log.snapshots[case] = (20, b'{"schema": 999}')  # unreadable: replayed
    again = await repository.load(Case, case)
    assert again is not None
    assert again.__dict__ == replayed.__dict__
    del world.store.log.snapshots[case]  # deleting it changes nothing but speed
    gone = await repository.load(Case, case)
    assert gone is not None
    assert gone.__dict__ == replayed.__dict__


async def test_two_processes_on_one_hot_case_all_succeed(world: World) -> None:
    """Two stores on one log behave as two processes on one database: each decides its
    own commands in order; whatever the other wrote first is reloaded and decided again
    (never on state that rested on a refused append)."""
    other_store = MemoryEventStore(world.store.log)
    await other_store.start()
    try:
        other = world_on(other_store)
        case = await _swarm(world)
        writers = [OWNER, EXPERT] * 12
        answers = await asyncio.gather(
            *(w.run("post_insight", who, _insight(f"{n}"), case=case)
              for n, who in enumerate(writers) for w in (world, other))
        )  # fmt: skip
        versions = sorted(a.result.model_dump()["version"] for a in answers)
        assert versions == list(range(4, 4 + 48))
        assert world.cases.redecided + other.cases.redecided > 0  # they did collide
    finally:
        await other_store.close()


async def test_a_hot_line_decides_later_conflicts_again_in_the_batch(world: World) -> None:
    """Once a line met a conflict it keeps a shadow of the committed case: the next
    conflicts (the other process wrote first) are decided again inside the appender's
    batch, on the shadow brought up to date, instead of failing and reloading. A short
    deadline: without that, commands would run out of time deciding again."""
    other_store = MemoryEventStore(world.store.log)
    await other_store.start()
    try:
        ours, other = world_on(world.store, deadline=0.5), world_on(other_store, deadline=0.5)
        case = await _swarm(world)

        async def writer(w: World, who: Principal, n: int) -> list[Answer]:
            return [  # one after another, as a client does
                await w.run("post_insight", who, _insight(f"{n}-{i}"), case=case) for i in range(10)
            ]

        answers = await asyncio.gather(
            *(writer(w, who, n) for n, who in enumerate([OWNER, EXPERT] * 4)
              for w in (ours, other))
        )  # fmt: skip
        versions = sorted(a.result.model_dump()["version"] for b in answers for a in b)
        assert versions == list(range(4, 4 + 160))
        assert ours.cases.decided_in_batch + other.cases.decided_in_batch > 0
        assert ours.cases.lines == other.cases.lines == {}  # the shadows went with the lines
    finally:
        await other_store.close()
