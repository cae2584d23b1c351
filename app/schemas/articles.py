"""Request and response bodies of the knowledge commands (`/api/articles...`) and of
search (`GET /api/search`)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from app.schemas.base import OptionalLine, StrictModel
from domain.article import MAX_SECTION_CHARS, MAX_TITLE_CHARS

ARTICLE = "1c7e0b5a-9d3f-5a8e-8b2c-4f6a1e3d5c70"
CASE = "8d0f6a52-3c1e-4b7a-9f2d-6e5c4b3a2910"

SectionText = Annotated[str, Field(max_length=MAX_SECTION_CHARS)]


class EditSections(StrictModel):
    """The new plain text of the sections to change (sentences are split on . ! ? and
    line ends); a section left out keeps its text and provenance."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"cause": "The proxy lost it."}]})

    problem: SectionText | None = None
    environment: SectionText | None = None
    cause: SectionText | None = None
    resolution: SectionText | None = None


class EditArticle(StrictModel):
    """New text; sentences left as they were keep their source."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"sections": {"cause": "The 4.2 build dropped the proxy setting."}}]
        }
    )
    title: Annotated[str, Field(min_length=1, max_length=MAX_TITLE_CHARS)] | None = None
    sections: EditSections = EditSections()


class FlagArticle(StrictModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "Step 2 fails on 4.3."}]})
    reason: Annotated[str, Field(min_length=1, max_length=2_000)]


class RetireArticle(StrictModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "Superseded by 4.3."}]})
    reason: OptionalLine = ""


class LinkArticle(StrictModel):
    """The case the article helped solve (the caller must be able to see it)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"case_id": CASE}]})
    case_id: UUID


class ArticleAccepted(BaseModel):
    """A committed article command: the article, its new version, the global position of
    its last event (pass it as `min_position` to read your own write)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"article_id": ARTICLE, "version": 2, "position": 1310}]}
    )
    article_id: UUID
    version: int = Field(ge=1)
    position: int = Field(ge=0)


class SearchHit(BaseModel):
    """One result: a published article or a resolved case."""

    kind: str  # "article" | "case"
    id: UUID
    title: str
    product_area: str
    status: str
    rank: float
    highlight: str  # the best passage, matched terms wrapped in <mark></mark> (HTML-escaped)
    reuse_count: int = 0
    updated_at: str = ""


class SearchResults(BaseModel):
    query: str
    hits: list[SearchHit]
    extra: dict[str, Any] = {}
