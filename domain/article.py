"""``Article``: what a swarm learned, written once for the next person with the problem
(Knowledge-Centered Service). Events: ``domain.article_events``; text and provenance:
``domain.knowledge``.

Life: ``draft`` (from a resolved case, by its owner) -> ``edit``* -> ``publish`` ->
``flag``/``edit``/``publish`` ... -> ``retire``. Status: draft, published, flagged
(published, but someone said it is wrong: it stays findable, with the reasons), retired
(never found again, never changes again).

Rules (``NotAllowed``, ``InvalidTransition``, ``InvalidInput``; errors carry the case id
the article came from and the article id as ``offending_id``):
  - draft: the case is resolved (or closed after its resolution) citing an accepted
    proposal, and the actor is the case's owner. The article id derives from the case id
    (``article_id_for``): one article per case;
  - edit, publish, retire: the drafter, or a supervisor/admin; not on a retired article;
  - publish: from draft or flagged (publishing again clears the flags), with a problem
    and a resolution;
  - flag: any agent (not a service), with a reason, on a published or flagged article;
  - reuse: on a published or flagged article, once per case.
"""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain import article_events as ev
from domain.actors import Actor, Role
from domain.errors import InvalidInput, InvalidTransition, NotAllowed
from domain.knowledge import SECTIONS, Composed, revise
from domain.values import require_text

__all__ = ["ARTICLE_NAMESPACE", "MAX_SECTION_CHARS", "MAX_TITLE_CHARS", "Article", "article_id_for"]

#: Namespace of article ids. Never change it: every stored article id derives from it.
ARTICLE_NAMESPACE = UUID("5b0c3f2e-8d6e-4a51-9a57-6c1f0d7e2b44")
MAX_TITLE_CHARS = 300
MAX_SECTION_CHARS = 20_000
DRAFT, PUBLISHED, FLAGGED, RETIRED = "draft", "published", "flagged", "retired"


def article_id_for(case_id: UUID) -> UUID:
    """The id of the article drafted from ``case_id`` (stable: one per case)."""
    return uuid5(ARTICLE_NAMESPACE, str(case_id))


class Article(Aggregate):
    """A knowledge article. Create with ``Article.draft``, never ``Article(...)``."""

    Drafted = ev.Drafted
    Edited = ev.Edited
    Published = ev.Published
    Flagged = ev.Flagged
    Retired = ev.Retired
    Reused = ev.Reused

    @classmethod
    def draft(cls, actor: Actor, composed: Composed) -> "Article":
        """The draft of ``composed`` (``domain.knowledge.compose``) by the case's owner."""
        article_id = article_id_for(composed.case_id)
        ids: dict[str, Any] = {
            "case_id": composed.case_id,
            "actor_id": actor.id,
            "offending_id": article_id,
        }
        if actor.role is Role.SERVICE or actor.id != composed.owner_id:
            raise NotAllowed("only the case's owner drafts its article", **ids)
        if composed.status == "open":
            raise InvalidTransition("the case is not resolved", **ids)
        if composed.proposal_id is None:
            raise InvalidTransition("the resolution cites no accepted proposal", **ids)
        return cls._create(
            cls.Drafted,
            id=article_id,
            case_id=composed.case_id,
            drafted_by=actor.id,
            title=composed.title[:MAX_TITLE_CHARS],
            product_area=composed.product_area,
            sections=composed.sections,
        )

    @event(Drafted)
    def __init__(
        self,
        case_id: UUID,
        drafted_by: UUID,
        title: str,
        product_area: str,
        sections: dict[str, list[dict[str, Any]]],
    ) -> None:
        self.case_id = case_id
        self.drafted_by = drafted_by
        self.title = title
        self.product_area = product_area
        self.sections = sections
        self.status = DRAFT
        self.flags: list[str] = []
        self.reused_by_cases: set[UUID] = set()

    # -- rules ------------------------------------------------------------------------
    def _ids(self, actor: Actor) -> dict[str, Any]:
        return {"case_id": self.case_id, "actor_id": actor.id, "offending_id": self.id}

    def _check_editor(self, actor: Actor, what: str) -> None:
        if actor.id != self.drafted_by and not actor.is_supervisor:
            raise NotAllowed(f"only the drafter or a supervisor may {what}", **self._ids(actor))
        if self.status == RETIRED:
            raise InvalidTransition("the article is retired", **self._ids(actor))

    # -- commands ---------------------------------------------------------------------
    def edit(
        self, actor: Actor, *, title: str | None = None, sections: Mapping[str, str] | None = None
    ) -> None:
        """New text for the title and/or some sections (each given as plain text)."""
        self._check_editor(actor, "edit")
        ids = self._ids(actor)
        given = dict(sections or {})
        if title is None and not given:
            raise InvalidInput("sections", "nothing to change: give a title or sections", **ids)
        for name, text in given.items():
            if name not in SECTIONS:
                allowed = ", ".join(SECTIONS)
                raise InvalidInput("sections", f"{name!r} is not one of: {allowed}", **ids)
            if len(text) > MAX_SECTION_CHARS:
                too_long = f"{name} exceeds {MAX_SECTION_CHARS} characters"
                raise InvalidInput("sections", too_long, **ids)
        new_title = self.title if title is None else require_text(title, "title", **ids)
        if len(new_title) > MAX_TITLE_CHARS:
            raise InvalidInput("title", f"exceeds {MAX_TITLE_CHARS} characters", **ids)
        source = {
            "event": "Edited",
            "stream_id": str(self.id),
            "version": self.version + 1,
            "author_id": str(actor.id),
            "at": datetime.now(UTC).isoformat(),
        }
        revised = revise(self.sections, given, source)
        self._edited(edited_by=actor.id, title=new_title, sections=revised)

    @event(Edited)
    def _edited(
        self, edited_by: UUID, title: str, sections: dict[str, list[dict[str, Any]]]
    ) -> None:
        self.title = title
        self.sections = sections

    def publish(self, actor: Actor) -> None:
        self._check_editor(actor, "publish")
        if self.status == PUBLISHED:
            raise InvalidTransition("the article is already published", **self._ids(actor))
        for name in ("problem", "resolution"):
            if not self.sections.get(name):
                raise InvalidInput("sections", f"{name} is empty", **self._ids(actor))
        self._published(published_by=actor.id)

    @event(Published)
    def _published(self, published_by: UUID) -> None:
        self.status = PUBLISHED
        self.flags = []

    def flag(self, actor: Actor, *, reason: str) -> None:
        ids = self._ids(actor)
        if actor.role is Role.SERVICE:
            raise NotAllowed("a service cannot flag an article", **ids)
        if self.status not in (PUBLISHED, FLAGGED):
            raise InvalidTransition(f"a {self.status} article cannot be flagged", **ids)
        self._flagged(flagged_by=actor.id, reason=require_text(reason, "reason", **ids))

    @event(Flagged)
    def _flagged(self, flagged_by: UUID, reason: str) -> None:
        self.status = FLAGGED
        self.flags = [*self.flags, reason]

    def retire(self, actor: Actor, *, reason: str = "") -> None:
        self._check_editor(actor, "retire")
        self._retired(retired_by=actor.id, reason=reason.strip())

    @event(Retired)
    def _retired(self, retired_by: UUID, reason: str) -> None:
        self.status = RETIRED

    def record_reuse(self, actor: Actor, *, case_id: UUID) -> None:
        """The article helped solve ``case_id`` (the caller may see that case: the
        application checks it)."""
        ids = self._ids(actor)
        if actor.role is Role.SERVICE:
            raise NotAllowed("a service cannot link an article", **ids)
        if self.status not in (PUBLISHED, FLAGGED):
            raise InvalidTransition(f"a {self.status} article cannot be reused", **ids)
        if case_id == self.case_id:
            raise InvalidTransition("an article is not reused by its own case", **ids)
        if case_id in self.reused_by_cases:
            raise InvalidTransition(f"already linked to case {case_id}", **ids)
        self._reused(case_id=case_id, reused_by=actor.id)

    @event(Reused)
    def _reused(self, case_id: UUID, reused_by: UUID) -> None:
        self.reused_by_cases = self.reused_by_cases | {case_id}
