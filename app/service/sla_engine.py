"""The SLA engine: follows the log, records each case's SLA facts on its stream, and fires
its deadlines through durable timers. A timer part (`app.service.timekeeper`): one leader
per database, the process that leads the timers (the runner fires its deadlines only
while its tracker is built, in the same process).

On taking the lead (`prepare`) it replays the log up to its tracked position into an
`SlaTracker` (`domain.sla_clock`: deterministic, so the replay rebuilds exactly the state
it had), schedules a timer for every running clock, then (`follow`) follows the log live:
- a case event's facts are recorded on that case with the idempotency key
  `sla:<position>` (the same facts again after a crash: nothing appended twice), then the
  clock timers are scheduled or cancelled, then the tracked position moves (lazily: a
  position replayed again only re-derives facts that the keys refuse to append twice);
- a timer (`sla:<case>:<target>:<cycle>:warn|breach`) fires once the engine has read the
  log up to the time it fired (so a response committed before it is seen first), and
  records the warning or breach, with the swarm urgency it raises, keyed by the timer.
A response committed while its clock's breach timer is firing (milliseconds) may leave
both `SlaMet`... and `SlaBreached`; readers take the first outcome of a clock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from uuid import UUID

from app.auth.tokens import Principal
from app.service.cases import CaseService
from app.service.clock import Clock
from app.service.context import CommandContext
from app.service.timers import Handler, Timer, Timers
from app.store import EventStore, RecordedEvent, request_hash
from domain.actors import Role
from domain.case import Case
from domain.case_outcomes import SlaFact
from domain.sla_clock import SlaTracker
from domain.sla_terms import SlaTarget
from projections import tracked
from projections.envelope import Envelope
from projections.leader import Follower

__all__ = ["SYSTEM", "SlaEngine"]

log = logging.getLogger(__name__)

#: Who records SLA facts (an admin: `Case.record_sla` refuses anyone else).
SYSTEM = Principal(subject="swarmdesk-sla-engine", name="SLA engine", role=Role.ADMIN)
NAME = "sla"
TIMER_KIND = "sla"


class SlaEngine(Follower):
    def __init__(
        self,
        store: EventStore,
        timers: Timers,
        cases: CaseService,
        clock: Clock,
        decode: Callable[[RecordedEvent], Any],
    ) -> None:
        self.store = store
        self.engine = timers.engine
        self.timers = timers
        self.cases = cases
        self.clock = clock
        self.decode = decode
        self.tracker = SlaTracker()
        self.position = 0  # read (and decided) up to here
        self.tracked = 0  # the tracking row's position
        self.leading = False
        self.recorded = 0  # facts appended (a metric)
        self._advanced = asyncio.Condition()
        self._broken = asyncio.Event()  # a timer's facts were decided but not recorded

    # -- a timer part (`app.service.timekeeper`); `wait_for` (Follower) ---------------
    def timer_handlers(self) -> Mapping[str, Handler]:
        return {TIMER_KIND: self._fire}

    def set_leading(self, leading: bool) -> None:
        self.leading = leading

    async def prepare(self) -> None:
        """Rebuild the tracker from the log and schedule every running clock."""
        self.tracker = SlaTracker()
        await self._advance(0)  # nobody waits on the state of an earlier leadership
        async with self.engine.connect() as conn:
            self.tracked = await tracked.read(conn, NAME)
        await self._replay(self.tracked)
        for case_id, clock in list(self.tracker.clocks()):
            await self._schedule(case_id, clock.target.value, clock.cycle)
        self._broken.clear()

    async def follow(self) -> None:
        """Follow the log and record facts until cancelled or a timer's facts were lost."""
        tasks = [
            asyncio.create_task(self._follow(), name="sla-follow"),
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
        raise error or RuntimeError("a timer's facts were not recorded: starting again")

    async def _follow(self) -> None:
        async for row in self.store.subscribe(self.position):
            facts = self._observe(row)
            if facts:
                await self._record(row.originator_id, facts, f"sla:{row.position}")
            await self._advance(row.position)

    async def _replay(self, until: int) -> None:
        after = 0
        while after < until:
            rows = await self.store.read(after, 5000, until=until)
            if not rows:
                break
            for row in rows:
                self._observe(row)
            after = rows[-1].position
        await self._advance(until)

    def _observe(self, row: RecordedEvent) -> list[SlaFact]:
        env = Envelope(row.position, self.decode(row))
        if env.name.startswith("Agent."):
            return []
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
        """Move the tracked position to what has been decided and recorded."""
        position = self.position
        if position <= self.tracked:
            return
        async with self.engine.begin() as conn:
            await tracked.move(conn, NAME, self.tracked, position)
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
        state = self.tracker.cases.get(case_id)
        clock = None if state is None else state.running.get(SlaTarget(target))
        if clock is None or clock.cycle != cycle or clock.paused or clock.breached:
            return
        payload = {"case_id": str(case_id), "target": target, "cycle": cycle}
        if not clock.warned:
            await self.timers.schedule(
                _key(case_id, target, cycle, "warn"), TIMER_KIND, clock.warn, payload
            )
        await self.timers.schedule(
            _key(case_id, target, cycle, "breach"), TIMER_KIND, clock.due, payload
        )

    async def _fire(self, timer: Timer) -> None:
        """A clock's warning or breach: decided after reading the log up to now."""
        head = await self.store.max_position()
        if not await self.wait_for(head, 30.0):
            raise TimeoutError("the SLA engine is behind the log; the timer is retried")
        case_id = UUID(timer.payload["case_id"])
        # decided as of the time it was due (a late timer decides what was due then)
        facts = self.tracker.due(case_id, timer.due_at)
        if facts:
            try:
                await self._record(case_id, facts, timer.idempotency_key)
            except BaseException:
                # the tracker holds facts the log does not: replay from the log again
                self._broken.set()
                raise


def _key(case_id: UUID, target: str, cycle: int, what: str) -> str:
    return f"sla:{case_id}:{target}:{cycle}:{what}"
