"""The SLA engine: follows the log, records each case's SLA facts on its stream, and fires
its deadlines through durable timers. One leader per database (leadership "sla").

Its state (`domain.sla_clock.SlaTracker`: every case's clocks and the policies) is kept
in a checkpoint (`app.service.sla_checkpoint`) written with its tracked position in one
transaction, so taking the lead loads the checkpoint and replays only the events after
it (the tracker is deterministic: the same events give the same state). A database with
no checkpoint yet (written by an older version) is replayed from 0 once. Then it
schedules a timer for every running clock and follows the log live:
- a case event's facts are recorded on that case with the idempotency key
  `sla:<position>` (the same facts again after a crash: nothing appended twice), then the
  clock timers are scheduled or cancelled, then the position moves; the checkpoint
  follows every second (a position replayed again only re-derives facts that the keys
  refuse to append twice);
- a timer (`sla:<case>:<target>:<cycle>:warn|breach`) fires once the engine has read the
  log up to the time it fired (so a response committed before it is seen first), and
  records the warning or breach, with the swarm urgency it raises, keyed by the timer.
Deciding (the tracker changed) and recording (the facts in the log) happen under one
lock, and the checkpoint is taken under it too, so it never holds a fact the log lacks;
after a failure to record, nothing is saved until the state is loaded again.
A response committed while its clock's breach timer is firing (milliseconds) may leave
both `SlaMet`... and `SlaBreached`; readers take the first outcome of a clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncEngine

from app.auth.tokens import Principal
from app.service import sla_checkpoint
from app.service.cases import CaseService
from app.service.clock import Clock
from app.service.context import CommandContext
from app.service.timers import Timer, TimerRunner, Timers
from app.store import EventStore, RecordedEvent, request_hash
from domain.actors import Role
from domain.case import Case
from domain.case_outcomes import SlaFact
from domain.sla_clock import SlaTracker
from domain.sla_policy import PolicyBook
from domain.sla_terms import SlaTarget
from projections.envelope import Envelope
from projections.leader import LeadingFollower

__all__ = ["SYSTEM", "SlaEngine"]

log = logging.getLogger(__name__)

#: Who records SLA facts (an admin: `Case.record_sla` refuses anyone else).
SYSTEM = Principal(subject="swarmdesk-sla-engine", name="SLA engine", role=Role.ADMIN)
NAME = "sla"
TIMER_KIND = "sla"


class SlaEngine(LeadingFollower):
    lead_name = NAME

    def __init__(
        self,
        store: EventStore,
        engine: AsyncEngine,
        cases: CaseService,
        clock: Clock,
        decode: Callable[[RecordedEvent], Any],
        *,
        schema: str | None = None,
        retry: float = 1.0,
    ) -> None:
        self.store = store
        self.engine = engine
        self.cases = cases
        self.clock = clock
        self.decode = decode
        self.schema = schema
        self.retry = retry
        self.timers = Timers(engine)
        self.runner = TimerRunner(self.timers, clock, {TIMER_KIND: self._fire})
        self.tracker = SlaTracker()
        self.position = 0  # read (and decided) up to here
        self.tracked = 0  # the tracking row's position
        self.leading = False
        self.recorded = 0  # facts appended (a metric)
        self.resumed_from = 0  # the checkpoint's position when it last took the lead
        self.replayed = 0  # events replayed then, before following the log
        self._advanced = asyncio.Condition()
        self._deciding = asyncio.Lock()  # the tracker and the log move together
        self._broken = asyncio.Event()  # facts were decided but not recorded
        self._dirty: set[UUID] = set()  # cases changed since the checkpoint
        self._book_dirty = False

    # -- life cycle: `run`, `leading`, `wait_for` (LeadingFollower) --------------------
    async def _while_leading(self) -> None:
        await self._resume()
        await self.timers.schedule_many(
            TIMER_KIND,
            [
                item
                for case_id, clock in list(self.tracker.clocks())
                for item in self._timers_of(case_id, clock.target.value, clock.cycle)
            ],
        )
        tasks = [
            asyncio.create_task(self._follow(), name="sla-follow"),
            asyncio.create_task(self.runner.serve(), name="sla-timers"),
            asyncio.create_task(self._flush_forever(), name="sla-tracking"),
            asyncio.create_task(self._broken.wait(), name="sla-broken"),
        ]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
        error = next((r for r in results if isinstance(r, Exception)), None)
        raise error or RuntimeError("SLA facts were decided but not recorded: starting again")

    async def _resume(self) -> None:
        """The state at the checkpoint, then the events after it."""
        async with self.engine.connect() as conn:
            saved = await sla_checkpoint.load(conn, NAME)
        self.tracked = saved.position
        self._dirty.clear()
        self._broken.clear()
        if saved.book is None:  # no checkpoint yet: the whole log, once
            self.tracker = SlaTracker()
            self._book_dirty = True
            start = 0
        else:
            self.tracker = SlaTracker(PolicyBook.of_data(saved.book))
            for case_id, state in saved.cases.items():
                self.tracker.restore(case_id, state)
            self._book_dirty = False
            start = saved.position
        self.resumed_from = start
        head = await self.store.max_position()
        self.replayed = await self._replay(start, self.tracked)
        if saved.book is None:
            self._dirty.update(self.tracker.cases)
        log.info(
            "the SLA engine leads from position %d (%s, %d events replayed, head %d)",
            self.tracked,
            "no checkpoint" if saved.book is None else f"{len(saved.cases)} cases checkpointed",
            self.replayed,
            head,
        )

    async def _follow(self) -> None:
        async for row in self.store.subscribe(self.position):
            async with self._deciding, self._unless_recorded():
                facts = self._observe(row)
                if facts:
                    await self._record(row.originator_id, facts, f"sla:{row.position}")
                await self._advance(row.position)

    @contextlib.asynccontextmanager
    async def _unless_recorded(self) -> AsyncIterator[None]:
        """Marks the state broken when what it decided may not be in the log."""
        try:
            yield
        except BaseException:
            self._broken.set()
            raise

    async def _replay(self, after: int, until: int) -> int:
        """Observe (facts already recorded) the events after `after` up to `until`."""
        replayed = 0
        while after < until:
            rows = await self.store.read(after, 5000, until=until)
            if not rows:
                break
            for row in rows:
                self._observe(row)
            replayed += len(rows)
            after = rows[-1].position
        await self._advance(until)
        return replayed

    def _observe(self, row: RecordedEvent) -> list[SlaFact]:
        env = Envelope(row.position, self.decode(row))
        if env.name.startswith("Agent."):
            return []
        if env.name.startswith("SlaPolicy."):
            self._book_dirty = True
        else:
            self._dirty.add(env.stream_id)
        return self.tracker.observe(env.name, env.stream_id, env.event, env.event.timestamp)

    async def _advance(self, position: int) -> None:
        async with self._advanced:
            self.position = position
            self._advanced.notify_all()

    async def _flush_forever(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            await self.flush()

    async def flush(self) -> None:
        """Checkpoint: the state of the cases that changed and the position decided and
        recorded, in one transaction (nothing while the state is broken)."""
        async with self._deciding:
            if self._broken.is_set():
                return
            position = self.position
            if position <= self.tracked and not self._dirty and not self._book_dirty:
                return
            dirty, book_dirty = self._dirty, self._book_dirty
            cases = {}
            for case_id in dirty:
                data = self.tracker.case_data(case_id)
                if data is not None:
                    cases[case_id] = data
            book = self.tracker.book.as_data() if book_dirty else None
            self._dirty, self._book_dirty = set(), False
        try:
            async with self.engine.begin() as conn:
                await sla_checkpoint.save(conn, NAME, self.tracked, position, book, cases)
        except BaseException:
            self._dirty |= dirty
            self._book_dirty |= book_dirty
            raise
        self.tracked = position

    # -- recording ----------------------------------------------------------------------
    async def _record(self, case_id: UUID, facts: Sequence[SlaFact], key: str) -> None:
        context = CommandContext(SYSTEM, f"{SYSTEM.subject}:{key}", request_hash(key))

        def decide(case: Case, actor: Any) -> None:
            for fact in facts:
                case.record_sla(actor, fact)

        await self.cases.execute(case_id, context, decide)
        self.recorded += len(facts)
        for fact in facts:
            if fact.name == "SwarmUrgencyRaised":
                continue
            target, cycle = fact.fields["target"], fact.fields["cycle"]
            if fact.name in ("SlaClockStarted", "SlaResumed"):
                await self._schedule(case_id, target, cycle)
            elif fact.name in ("SlaPaused", "SlaMet", "SlaBreached"):
                for what in ("warn", "breach"):
                    await self.timers.cancel(_key(case_id, target, cycle, what))

    async def _schedule(self, case_id: UUID, target: str, cycle: int) -> None:
        for key, due, payload in self._timers_of(case_id, target, cycle):
            await self.timers.schedule(key, TIMER_KIND, due, payload)

    def _timers_of(
        self, case_id: UUID, target: str, cycle: int
    ) -> list[tuple[str, datetime, dict[str, Any]]]:
        """The (key, due, payload) of a running clock's timers (none when it is not)."""
        state = self.tracker.cases.get(case_id)
        clock = None if state is None else state.running.get(SlaTarget(target))
        if clock is None or clock.cycle != cycle or clock.paused or clock.breached:
            return []
        payload = {"case_id": str(case_id), "target": target, "cycle": cycle}
        due = [] if clock.warned else [(_key(case_id, target, cycle, "warn"), clock.warn, payload)]
        return [*due, (_key(case_id, target, cycle, "breach"), clock.due, payload)]

    async def _fire(self, timer: Timer) -> None:
        """A clock's warning or breach: decided after reading the log up to now."""
        head = await self.store.max_position()
        if not await self.wait_for(head, 30.0):
            raise TimeoutError("the SLA engine is behind the log; the timer is retried")
        case_id = UUID(timer.payload["case_id"])
        async with self._deciding, self._unless_recorded():
            # decided as of the time it was due (a late timer decides what was due then)
            facts = self.tracker.due(case_id, timer.due_at)
            if facts:
                self._dirty.add(case_id)
                await self._record(case_id, facts, timer.idempotency_key)


def _key(case_id: UUID, target: str, cycle: int, what: str) -> str:
    return f"sla:{case_id}:{target}:{cycle}:{what}"
