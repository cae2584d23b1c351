"""The article application service: drafting from a case and every article command.

Contract:
- service tokens are refused (`ServiceTokensCannotCommand`);
- `draft(case_id)`: the case must exist and be visible to the caller (else `CaseNotFound`,
  as for case commands); its events are read and composed (`domain.knowledge.compose`),
  and the domain refuses a case that is not resolved citing an accepted proposal, or a
  caller who is not its owner. One article per case: a second draft is `ArticleExists`
  (409) naming the article; two drafts at once: one wins, the other is a 409 too;
- `execute(article_id, command, case_id=None)`: an unknown article, or a draft the caller
  may not read (drafts are read by their drafter and supervisors), is `ArticleNotFound`;
  when the command names a case (`case_id`: a reuse), the caller must see that case
  (`CaseNotFound`); `If-Match` must equal the article's version (`VersionMismatch`);
  a conflict with another writer is decided again until the deadline (never with
  `If-Match`);
- idempotency keys behave as for case commands (`app.service.cases.replay_on_failure`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from uuid import UUID

from app.service.cases import CONFLICT_DEADLINE, can_see, replay_on_failure
from app.service.context import CommandContext
from app.service.errors import ApplicationError, CaseNotFound, VersionMismatch
from app.service.repository import CommandResult, Repository
from app.store import VersionConflict
from app.store.codec import decode
from domain.actors import Actor
from domain.article import DRAFT, Article, article_id_for
from domain.case import Case
from domain.knowledge import compose

ArticleCommand = Callable[[Article, Actor], None]


class ArticleNotFound(ApplicationError):
    """No such article, or a draft the caller may not read."""

    def __init__(self, article_id: UUID) -> None:
        super().__init__(f"no article {article_id}", article_id=str(article_id))


class ArticleExists(ApplicationError):
    """The case already has its article (one per case): edit that one."""

    def __init__(self, case_id: UUID, article_id: UUID) -> None:
        super().__init__(
            f"case {case_id} already has article {article_id}",
            case_id=str(case_id),
            article_id=str(article_id),
        )


def can_read(article: Article, actor: Actor) -> bool:
    """Drafts are for their drafter and supervisors; anything else for every agent."""
    return article.status != DRAFT or actor.id == article.drafted_by or actor.is_supervisor


class ArticleService:
    """Runs article commands over a `Repository` (contract: the module docstring)."""

    def __init__(
        self, repository: Repository, conflict_deadline: float = CONFLICT_DEADLINE
    ) -> None:
        self.repository = repository
        self.conflict_deadline = conflict_deadline

    async def draft(self, context: CommandContext, case_id: UUID) -> CommandResult:
        context.refuse_service()

        async def run() -> CommandResult:
            actor = context.principal.actor
            events = await self._case_events(case_id, actor)
            article_id = article_id_for(case_id)
            if await self.repository.load(Article, article_id) is not None:
                raise ArticleExists(case_id, article_id)
            article = Article.draft(actor, compose(events))
            try:
                return await self.repository.save(
                    article,
                    idempotency_key=context.idempotency_key,
                    request_hash=context.fingerprint,
                )
            except VersionConflict:  # drafted meanwhile by another request
                raise ArticleExists(case_id, article_id) from None

        return await replay_on_failure(self.repository, context, run)

    async def _case_events(self, case_id: UUID, actor: Actor) -> list[Any]:
        """The events of the case (visible to `actor`, else `CaseNotFound`)."""
        rows = await self.repository.store.read_stream(case_id)
        events = [decode(self.repository.mapper, row) for row in rows]
        case: Any = None
        for e in events:
            case = e.mutate(case)  # type: ignore[attr-defined]
        if not isinstance(case, Case) or not can_see(case, actor):
            raise CaseNotFound(case_id)
        return events

    async def execute(
        self,
        article_id: UUID,
        context: CommandContext,
        command: ArticleCommand,
        *,
        case_id: UUID | None = None,
    ) -> CommandResult:
        context.refuse_service()
        return await replay_on_failure(
            self.repository, context, lambda: self._attempts(article_id, context, command, case_id)
        )

    async def _attempts(
        self,
        article_id: UUID,
        context: CommandContext,
        command: ArticleCommand,
        case_id: UUID | None,
    ) -> CommandResult:
        actor = context.principal.actor
        if case_id is not None:
            case = await self.repository.load(Case, case_id)
            if case is None or not can_see(case, actor):
                raise CaseNotFound(case_id)
        deadline = time.monotonic() + self.conflict_deadline
        while True:
            article = await self.repository.load(Article, article_id)
            if article is None or not can_read(article, actor):
                raise ArticleNotFound(article_id)
            if context.if_match is not None and context.if_match != article.version:
                raise VersionMismatch("article", article_id, context.if_match, article.version)
            command(article, actor)
            try:
                return await self.repository.save(
                    article,
                    idempotency_key=context.idempotency_key,
                    request_hash=context.fingerprint,
                )
            except VersionConflict:
                if context.if_match is not None or time.monotonic() >= deadline:
                    raise
