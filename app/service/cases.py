"""The case application service: every case command runs here.

`CaseService.execute` contract, in order:
1. service tokens are refused (`ServiceTokensCannotCommand`) - they never act on cases;
2. commands on one case in this process are decided one after another, in arrival order,
   each against the case's latest state: the case's *line* (one per case, only while it
   has work) holds the state as decided so far, including events whose append is still
   in flight. A command decides and queues its append under the line's lock, then waits
   for the commit outside it, so one group commit carries several consecutive versions
   of a hot case and commands that both satisfy the rules both succeed (no false
   conflicts). Each append names the one it was decided on top of (`AppendRequest.after`):
   if that one is not appended, neither is this (it is decided again);
3. the case comes from the line, else the process cache, else the store; an unknown
   case, or one the caller may not see, is `CaseNotFound` (a caller sees a case when
   owner or participant, invited, a supervisor or admin, or while the case has an open
   swarm request) - so a stranger learns nothing, not even that it exists; a reuse of
   a solved case (`can_see_solution`) is decided by any caller who sees the case it
   helped (checked first, `check_visible`): every agent finds solved cases in search;
4. `If-Match`, when given, must equal the case's version (appends in flight settled
   first, so the answer is about committed state), else `VersionMismatch`; a command
   with `If-Match` is never decided twice: a conflict is answered as `VersionConflict`;
5. the domain command runs its own rules (a `DomainError`); nothing is appended when
   it refuses;
6. on `VersionConflict` (another process wrote first, or what this command was decided
   on was not appended), the case is reloaded and the command decided again - every
   rule re-checked against the newer state, never a blind overwrite - until
   `conflict_deadline` seconds have passed; then the conflict goes to the caller.
7. once a line has met a conflict, it keeps a *shadow*: a copy of the case's committed
   state. Its commands then carry a `Redecide` (`DecideAgain`): when the appender finds
   the case moved, it decides the command again in the batch itself, under the store's
   write lock, on the shadow brought up to date with the events it missed, so a command
   the rules still allow cannot lose the race again (two processes writing one hot case
   starved each other without it: each reload lost to the other's next commit). The
   line reloads its own state before its next decision. Without a conflict there is no
   shadow: an uncontended command pays nothing for this.

Idempotency (checked lazily, which saves a database round trip per command): a repeated
key is detected by the append itself (same fingerprint: the first result, nothing
appended; another: 422). When a keyed command fails at any step (404, 412, a rule, a
conflict), the key is looked up before answering: if it was already used, the first result
(or the 422 for another body) is the answer. So a retry of a committed command always gets
its first result, even when re-running it would now break a rule; server-chosen ids derive
from the key (`CommandContext.new_id`), so the retry names the same ids.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent

from app.service.cache import AggregateCache
from app.service.context import CommandContext
from app.service.errors import ApplicationError, CaseNotFound, VersionMismatch
from app.service.repository import CommandResult, Repository, Submitted
from app.store import AppendResult, Link, RecordedEvent, VersionConflict
from app.store.codec import decode
from domain.actors import Actor
from domain.case import Case
from domain.case_snapshot import copy_of
from domain.errors import DomainError
from domain.values import CaseStatus

CONFLICT_DEADLINE = 5.0  # seconds a command may spend deciding again after conflicts

CaseCommand = Callable[[Case, Actor], None]
CaseOpener = Callable[[Actor, UUID], Case]
Visibility = Callable[[Case, Actor], bool]


def can_see(case: Case, actor: Actor) -> bool:
    """Whether `actor` may know the case exists (the command may still be refused)."""
    return (
        actor.is_supervisor
        or case.is_participant(actor.id)
        or actor.id in case.pending_invitations
        or case.swarm_open
    )


def can_see_solution(case: Case, actor: Actor) -> bool:
    """Whether `actor` may know a case as knowledge: every agent finds solved cases in
    search (its resolution, not the case), others as `can_see`."""
    solved = case.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED)
    return (solved and bool(case.resolution_summary)) or can_see(case, actor)


async def replay_on_failure(
    repository: Repository, context: CommandContext, run: Callable[[], Awaitable[CommandResult]]
) -> CommandResult:
    """`run()`; if it fails and the command carries a key already used, the first result
    (or `IdempotencyKeyReused`) instead of the failure."""
    try:
        return await run()
    except (ApplicationError, DomainError, VersionConflict):
        replayed = await repository.replay(context.idempotency_key, context.fingerprint)
        if replayed is None:
            raise
        return replayed


@dataclass(eq=False, slots=True)
class Line:
    """One case's work in this process: its lock, the state decided so far (`head`,
    None to reload) and the link of the last append decided on it."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    head: Case | None = None
    link: Link | None = None
    #: Bumped whenever `head` is read afresh: everything decided since rests on it.
    generation: int = 0
    in_flight: set[asyncio.Future[AppendResult]] = field(default_factory=set)
    users: int = 0
    #: The case's committed state, kept once the line met a conflict (step 7), and the
    #: link of the last request decided again on it (if that one failed, so did it).
    shadow: Case | None = None
    shadow_link: Link | None = None
    #: A request was decided again in its batch: `head` no longer describes the case.
    stale: bool = False
    contended: bool = False  # it met a conflict: keep a shadow

    def drop_shadow(self) -> None:
        self.shadow, self.shadow_link = None, None


@dataclass(eq=False, slots=True)
class DecideAgain:
    """One case command's `app.store.Redecide`: decided again on the line's shadow."""

    line: Line
    case_id: UUID
    command: CaseCommand
    actor: Actor
    mapper: Mapper[UUID]
    link: Link | None
    visible: Visibility = can_see

    def base(self) -> int:
        line = self.line
        valid = line.shadow_link is None or not line.shadow_link.failed
        return line.shadow.version if line.shadow is not None and valid else -1

    def __call__(self, missing: Sequence[RecordedEvent]) -> Sequence[StoredEvent]:
        line, shadow = self.line, self.line.shadow
        if shadow is None:
            raise VersionConflict(self.case_id, -1, -1)
        try:
            for row in missing:
                decode(self.mapper, row).mutate(shadow)  # type: ignore[attr-defined]
            if not self.visible(shadow, self.actor):
                raise CaseNotFound(self.case_id)
            self.command(shadow, self.actor)
        except BaseException:
            if shadow.pending_events or shadow.version != (
                missing[-1].originator_version if missing else shadow.version
            ):
                line.drop_shadow()  # half applied: not the case's state
            raise
        line.shadow_link, line.stale = self.link, True
        return [self.mapper.to_stored_event(e) for e in shadow.collect_events()]


class CaseService:
    """Runs case commands over a `Repository` (see the module docstring for the contract)."""

    def __init__(
        self,
        repository: Repository,
        cache: AggregateCache[Case] | None = None,
        conflict_deadline: float = CONFLICT_DEADLINE,
    ) -> None:
        self.repository = repository
        self.cache: AggregateCache[Case] = cache if cache is not None else AggregateCache()
        self.conflict_deadline = conflict_deadline
        self.lines: dict[UUID, Line] = {}  # only cases with commands under way
        self.redecided = 0  # decisions taken again after a conflict (a metric)
        self.decided_in_batch = 0  # ... of which in the appender's batch (step 7)

    async def open(self, context: CommandContext, opener: CaseOpener) -> CommandResult:
        """Open a case with a server-chosen id; the caller becomes its owner."""
        context.refuse_service()

        async def run() -> CommandResult:
            case = opener(context.principal.actor, context.new_id("case"))
            result = await self.repository.save(
                case, idempotency_key=context.idempotency_key, request_hash=context.fingerprint
            )
            if not result.replayed and result.version == case.version:
                self.cache.put(case)
            return result

        return await replay_on_failure(self.repository, context, run)

    async def execute(
        self,
        case_id: UUID,
        context: CommandContext,
        command: CaseCommand,
        *,
        visible: Visibility = can_see,
    ) -> CommandResult:
        """Run `command` on the case (steps 1-6 of the module docstring); `visible`: who
        may decide on it (others get `CaseNotFound`)."""
        context.refuse_service()
        return await replay_on_failure(
            self.repository, context, lambda: self._decide(case_id, context, command, visible)
        )

    async def check_visible(self, case_id: UUID, actor: Actor) -> None:
        """`CaseNotFound` unless the case exists and `actor` may see it (`can_see`)."""
        case = await self.repository.load(Case, case_id)
        if case is None or not can_see(case, actor):
            raise CaseNotFound(case_id)

    async def _decide(
        self, case_id: UUID, context: CommandContext, command: CaseCommand, visible: Visibility
    ) -> CommandResult:
        deadline = time.monotonic() + self.conflict_deadline
        attempt = 0
        line = self.lines.get(case_id)
        if line is None:
            line = self.lines[case_id] = Line()
        line.users += 1
        try:
            while True:
                async with line.lock:
                    submitted = await self._decide_once(line, case_id, context, command, visible)
                    generation = line.generation
                try:
                    result = await self.repository.settle(submitted)
                    if submitted.future.result().redecided:
                        self.decided_in_batch += 1
                    return result
                except BaseException as error:
                    # not appended: the state decided since rests on it and must go (the
                    # commands decided on it are refused by the store and decided again)
                    if line.generation == generation:
                        line.head, line.link = None, None
                        line.generation += 1
                    if not isinstance(error, VersionConflict):
                        raise
                    line.contended = True  # keep a shadow from the next load (step 7)
                    if context.if_match is not None:  # the case moved: 412 from the store
                        await self._precondition(case_id, context.if_match, error)
                    if time.monotonic() >= deadline:
                        raise
                    self.redecided += 1
                    after = submitted.request.after
                    if after is None or not after.failed:
                        attempt += 1  # another process won: back off a little, with jitter
                        await asyncio.sleep(random.uniform(0, 0.002 * min(attempt, 10)))
                finally:
                    line.in_flight.discard(submitted.future)
        finally:
            line.users -= 1
            if line.users == 0:
                del self.lines[case_id]
                if line.head is not None and not ((line.link and line.link.failed) or line.stale):
                    self.cache.put(line.head)  # committed: keep it for the next command

    async def _precondition(self, case_id: UUID, if_match: int, conflict: Exception) -> None:
        """Raise `VersionMismatch` when the stored case is not at `if_match`, else
        `conflict` (never decided again: the caller named the version it expects)."""
        rows = await self.repository.store.read_stream(case_id, desc=True, limit=1)
        current = rows[0].originator_version if rows else 0
        if current != if_match:
            raise VersionMismatch("case", case_id, if_match, current) from conflict
        raise conflict

    async def _decide_once(
        self,
        line: Line,
        case_id: UUID,
        context: CommandContext,
        command: CaseCommand,
        visible: Visibility,
    ) -> Submitted:
        """Under the line's lock: the latest state, the checks, the decision, the append
        queued (not awaited)."""
        if context.if_match is not None and line.in_flight:
            await asyncio.wait(set(line.in_flight))  # If-Match is about committed state
        case = await self._head(line, case_id, reload=line.stale)
        if case is not None and context.if_match not in (None, case.version):
            case = await self._head(line, case_id, reload=True)  # 412 only from the store
        actor = context.principal.actor
        if case is None or not visible(case, actor):
            raise CaseNotFound(case_id)
        if context.if_match is not None and context.if_match != case.version:
            raise VersionMismatch("case", case_id, context.if_match, case.version)
        before = case.version
        try:
            command(case, actor)
        except BaseException:
            if case.pending_events:  # a decision half taken: this state is not the case's
                line.head, line.link = None, None
            raise
        link = Link()
        again = None
        if line.shadow is not None and context.if_match is None:  # step 7
            again = DecideAgain(
                line, case_id, command, actor, self.repository.mapper, link, visible
            )
        submitted = self.repository.submit(
            case,
            idempotency_key=context.idempotency_key,
            request_hash=context.fingerprint,
            after=line.link,
            link=link,
            redecide=again,
        )
        line.head, line.link = case, submitted.request.link
        line.in_flight.add(submitted.future)
        snapshot = self.repository.snapshot_due(case, before)
        if snapshot is not None:  # kept once the events it describes are committed
            submitted.future.add_done_callback(
                lambda f: (
                    None
                    if f.cancelled()
                    or f.exception() is not None
                    or f.result().replayed
                    or f.result().redecided  # the snapshot describes the first decision
                    else self.repository.keep_snapshot(case_id, f.result().version, snapshot)
                )
            )
        return submitted

    async def _head(self, line: Line, case_id: UUID, *, reload: bool = False) -> Case | None:
        """The state to decide on: the line's, unless what it rests on was not appended
        (then, like a line without state, the cache's or the store's); `reload`: the
        store's."""
        failed = line.link is not None and line.link.failed
        if line.head is not None and not failed and not reload:
            return line.head
        fresh = reload or line.head is not None or line.link is not None  # not the cache
        line.head, line.link, line.stale = None, None, False
        line.generation += 1
        if line.in_flight:  # let what is on its way commit (or not) before reading
            await asyncio.wait(set(line.in_flight))
        case = None if fresh else self.cache.take(case_id)
        if case is None and line.contended and self._shadow_valid(line):
            case = await self._from_shadow(line, case_id)
        if case is None:
            case = await self.repository.load(Case, case_id)
            if line.contended and case is not None:  # after a conflict: a shadow (step 7)
                line.shadow = copy_of(case)
                line.shadow_link = None
        line.head = case
        return case

    @staticmethod
    def _shadow_valid(line: Line) -> bool:
        link = line.shadow_link
        return line.shadow is not None and (link is None or not link.failed)

    async def _from_shadow(self, line: Line, case_id: UUID) -> Case | None:
        """The latest state from the line's shadow and the few events after it (a
        reload that does not grow with the case's history); None if it cannot be."""
        shadow = line.shadow
        assert shadow is not None
        try:
            for row in await self.repository.store.read_stream(case_id, gt=shadow.version):
                decode(self.repository.mapper, row).mutate(shadow)  # type: ignore[attr-defined]
        except BaseException:
            line.drop_shadow()
            raise
        line.shadow_link = None  # all of it committed
        return copy_of(shadow)
