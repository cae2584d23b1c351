"""Knowledge queries: search, articles, and the similar solved cases of a case.

`?min_position=P` waits (at most `SWARMDESK_MIN_POSITION_WAIT_SECONDS`) until the search
index has reached P (search, similar) or the views have (articles), else 503 `view-behind`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query

from app.bootstrap import Services
from app.http.case_queries import MinPosition, caught_up
from app.http.deps import PrincipalDep, ServicesDep
from app.schemas.articles import SearchHit, SearchResults
from app.service.articles import ArticleNotFound
from app.service.errors import CaseNotFound, ViewBehind
from projections.queries import case_text
from projections.search import DEFAULT_STATUSES, KINDS, SearchQuery

router = APIRouter(tags=["knowledge queries"])

Status = Literal["resolved", "closed", "published", "flagged", "retired"]
QUERY_MAX = 2_000


async def indexed(services: Services, min_position: int | None) -> None:
    if min_position is None:
        return
    waited = services.settings.min_position_wait_seconds
    if not await services.knowledge.wait_for_position(min_position, waited):
        raise ViewBehind(min_position, waited)


@router.get("/api/search", response_model=SearchResults)
async def get_search(
    services: ServicesDep,
    principal: PrincipalDep,
    q: Annotated[str, Query(max_length=QUERY_MAX, description='words and "phrases"')],
    product_area: Annotated[str | None, Query(max_length=200)] = None,
    status: Annotated[list[Status] | None, Query(max_length=5)] = None,
    kind: Literal["article", "case"] | None = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
    min_position: MinPosition = None,
) -> SearchResults:
    """Published articles and resolved cases holding the words, best first, with the
    best passage highlighted; filtered by product area, status and kind."""
    await indexed(services, min_position)
    query = SearchQuery(
        q,
        product_area=product_area or None,
        statuses=tuple(status) if status else DEFAULT_STATUSES,
        kinds=(kind,) if kind else KINDS,
        limit=limit,
    )
    hits = await services.knowledge.search(query)
    return SearchResults(query=q, hits=[SearchHit(**h.as_dict()) for h in hits])


@router.get("/api/articles")
async def get_articles(
    services: ServicesDep,
    principal: PrincipalDep,
    status: Literal["draft", "published", "flagged", "retired"] | None = None,
    case_id: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    min_position: MinPosition = None,
) -> list[dict[str, Any]]:
    """Articles the caller may read (drafts: their drafter's and supervisors'), without
    their text, most recently changed first."""
    await caught_up(services, min_position)
    return await services.knowledge.articles(
        principal.actor, status=status, case_id=case_id, limit=limit
    )


@router.get("/api/articles/{article_id}", responses={404: {"description": "no such article"}})
async def get_article(
    article_id: UUID,
    services: ServicesDep,
    principal: PrincipalDep,
    min_position: MinPosition = None,
) -> dict[str, Any]:
    """The article: its sections, each sentence with its source (event, author, time)."""
    await caught_up(services, min_position)
    doc = await services.knowledge.article(article_id, principal.actor)
    if doc is None:
        raise ArticleNotFound(article_id)
    return doc


@router.get("/api/cases/{case_id}/similar", responses={404: {"description": "no such case"}})
async def get_similar(
    case_id: UUID,
    services: ServicesDep,
    principal: PrincipalDep,
    min_position: MinPosition = None,
) -> dict[str, Any]:
    """The solved cases and articles most like this case (computed when it was opened
    and whenever its subject, description, symptoms or environment changed). `hits` is
    empty until computed; link one with `POST /api/articles/{id}/reuses`."""
    await indexed(services, min_position)
    views = services.views
    found = await case_text(views.engine, case_id, principal.actor, views.pool)
    if found is None or not found.readable:
        raise CaseNotFound(case_id, f"no case {case_id} that you may read")
    similar = await services.knowledge.similar(case_id)
    return similar or {"case_id": str(case_id), "position": 0, "hits": []}
