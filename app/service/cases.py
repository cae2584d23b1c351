"""The case application service: every case command runs here.

`CaseService.execute` contract, in order:
1. service tokens are refused (`ServiceTokensCannotCommand`) - they never act on cases;
2. the case is taken from the process cache or loaded from the store; an unknown case,
   or one the caller may not see, is `CaseNotFound` (a caller sees a case when owner or participant,
   invited, a supervisor or admin, or while the case has an open swarm request) - so a
   stranger learns nothing, not even that it exists;
3. `If-Match`, when given, must equal the case's version, else `VersionMismatch`
   (a cached copy that disagrees is reloaded before answering 412);
4. the domain command runs its own rules (a `DomainError`); nothing is appended when
   it refuses;
5. the new events are appended at the version the case had; the append carries the
   caller-scoped idempotency key and the request fingerprint;
6. on `VersionConflict`, a command *without* `If-Match` is re-run from step 2 on a fresh
   load, up to `max_attempts` times: re-running the command re-checks every rule against
   the newer state, so it is never a blind overwrite. A command *with* `If-Match` is never
   retried: the `VersionConflict` (with the current version) goes back to the caller.
   A conflict on a *cached* copy (another process wrote since) does not count: the case
   is reloaded and the command decided again, as if the stale copy had never been used
   (so `If-Match` then gets its `VersionMismatch` from the store's version).

Idempotency (checked lazily, which saves a database round trip per command): a repeated
key is detected by the append itself (same fingerprint: the first result, nothing
appended; another: 422). When a keyed command fails at any step (404, 412, a rule, a
conflict), the key is looked up before answering: if it was already used, the first result
(or the 422 for another body) is the answer. So a retry of a committed command always gets
its first result, even when re-running it would now break a rule; server-chosen ids derive
from the key (`CommandContext.new_id`), so the retry names the same ids.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from uuid import UUID

from app.service.cache import AggregateCache
from app.service.context import CommandContext
from app.service.errors import ApplicationError, CaseNotFound, VersionMismatch
from app.service.repository import CommandResult, Repository
from app.store import VersionConflict
from domain.actors import Actor
from domain.case import Case
from domain.errors import DomainError

MAX_ATTEMPTS = 3

CaseCommand = Callable[[Case, Actor], None]
CaseOpener = Callable[[Actor, UUID], Case]


def can_see(case: Case, actor: Actor) -> bool:
    """Whether `actor` may know the case exists (the command may still be refused)."""
    return (
        actor.is_supervisor
        or case.is_participant(actor.id)
        or actor.id in case.pending_invitations
        or case.swarm_open
    )


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


class CaseService:
    """Runs case commands over a `Repository` (see the module docstring for the contract)."""

    def __init__(
        self,
        repository: Repository,
        cache: AggregateCache[Case] | None = None,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self.repository = repository
        self.cache: AggregateCache[Case] = cache if cache is not None else AggregateCache()
        self.max_attempts = max_attempts

    async def open(self, context: CommandContext, opener: CaseOpener) -> CommandResult:
        """Open a case with a server-chosen id; the caller becomes its owner."""
        context.refuse_service()

        async def run() -> CommandResult:
            case = opener(context.principal.actor, context.new_id("case"))
            return await self._save(case, context)

        return await replay_on_failure(self.repository, context, run)

    async def execute(
        self, case_id: UUID, context: CommandContext, command: CaseCommand
    ) -> CommandResult:
        """Run `command` on the case (steps 1-6 of the module docstring)."""
        context.refuse_service()
        return await replay_on_failure(
            self.repository, context, lambda: self._attempts(case_id, context, command)
        )

    async def _attempts(
        self, case_id: UUID, context: CommandContext, command: CaseCommand
    ) -> CommandResult:
        actor = context.principal.actor
        attempts_left = 1 if context.if_match is not None else self.max_attempts
        fresh = False
        while True:
            case, cached = await self._case(case_id, actor, context.if_match, fresh)
            command(case, actor)
            try:
                return await self._save(case, context)
            except VersionConflict:
                if not cached:  # a stale cached copy is not an attempt: reload and decide
                    attempts_left -= 1
                if attempts_left == 0:
                    raise
                fresh = True

    async def _case(
        self, case_id: UUID, actor: Actor, if_match: int | None, fresh: bool
    ) -> tuple[Case, bool]:
        """The case (and whether it came from the cache), checked for visibility and
        `If-Match`; a cached copy whose version differs from `If-Match` is reloaded."""
        case = None if fresh else self.cache.take(case_id)
        if case is not None and if_match is not None and case.version != if_match:
            case = None  # the copy may be stale: answer 412 only from the store
        cached = case is not None
        if case is None:
            case = await self.repository.load(Case, case_id)
        if case is None or not can_see(case, actor):
            raise CaseNotFound(case_id)
        if if_match is not None and if_match != case.version:
            raise VersionMismatch("case", case_id, if_match, case.version)
        return case, cached

    async def _save(self, case: Case, context: CommandContext) -> CommandResult:
        result = await self.repository.save(
            case, idempotency_key=context.idempotency_key, request_hash=context.fingerprint
        )
        if not result.replayed and result.version == case.version:
            self.cache.put(case)
        return result
