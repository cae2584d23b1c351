"""Reducers of the article view: one pure function per `Article` event (as `case_view`).

Document shape (ids as str):
  article_id, case_id, version, position, status draft|published|flagged|retired,
  title, product_area, drafted_by, drafted_at, updated_at, published_at (null until
  published), sections {problem|environment|cause|resolution: [{text, source}]} (a
  source: `domain.article_events`), authors [agent ids whose sentences it holds, the
  editors' included], flags [{by, reason, at}] (open flags: publishing again clears
  them), reuses [{case_id, by, at}], reuse_count, standing (reuses minus open flags:
  what search ranks by besides the text).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from projections.envelope import Doc, Envelope, Op, add, replace, sid

Reducer = Callable[[Doc, Envelope], list[Op]]
PREFIX = "Article."


def authors(sections: dict[str, list[dict[str, Any]]]) -> list[str]:
    """Who wrote the text, in order of first sentence."""
    found = [
        str(s["source"].get("author_id", "")) for sentences in sections.values() for s in sentences
    ]
    return [a for a in dict.fromkeys(found) if a]


def drafted(view: Doc, env: Envelope) -> list[Op]:
    e = env.event
    doc: Doc = {
        "article_id": env.key,
        "case_id": sid(e.case_id),
        "version": env.version,
        "position": env.position,
        "status": "draft",
        "title": e.title,
        "product_area": e.product_area,
        "drafted_by": sid(e.drafted_by),
        "drafted_at": env.at,
        "updated_at": env.at,
        "published_at": None,
        "sections": e.sections,
        "authors": authors(e.sections),
        "flags": [],
        "reuses": [],
        "reuse_count": 0,
        "standing": 0,
    }
    return [add("", doc)]


def edited(view: Doc, env: Envelope) -> list[Op]:
    e = env.event
    return [
        replace("/title", e.title),
        replace("/sections", e.sections),
        replace("/authors", authors(e.sections)),
    ]


def published(view: Doc, env: Envelope) -> list[Op]:
    return [
        replace("/status", "published"),
        replace("/published_at", env.at),
        replace("/flags", []),
        replace("/standing", view["reuse_count"]),
    ]


def flagged(view: Doc, env: Envelope) -> list[Op]:
    e = env.event
    flag = {"by": sid(e.flagged_by), "reason": e.reason, "at": env.at}
    return [
        replace("/status", "flagged"),
        add("/flags/-", flag),
        replace("/standing", view["reuse_count"] - len(view["flags"]) - 1),
    ]


def retired(view: Doc, env: Envelope) -> list[Op]:
    return [replace("/status", "retired")]


def reused(view: Doc, env: Envelope) -> list[Op]:
    e = env.event
    reuse = {"case_id": sid(e.case_id), "by": sid(e.reused_by), "at": env.at}
    return [
        add("/reuses/-", reuse),
        replace("/reuse_count", view["reuse_count"] + 1),
        replace("/standing", view["standing"] + 1),
    ]


REDUCERS: dict[str, Reducer] = {
    "Article.Drafted": drafted,
    "Article.Edited": edited,
    "Article.Published": published,
    "Article.Flagged": flagged,
    "Article.Retired": retired,
    "Article.Reused": reused,
}


def article_ops(view: Doc | None, env: Envelope) -> list[Op]:
    """All ops of one article event on the article view (`None` before `Drafted`)."""
    reducer = REDUCERS.get(env.name)
    if reducer is None:
        raise KeyError(f"no article reducer for {env.name}")
    if view is None:
        if env.name != "Article.Drafted":
            raise ValueError(f"article {env.stream_id}: {env.name} before Drafted")
        return reducer({}, env)
    return [
        *reducer(view, env),
        replace("/version", env.version),
        replace("/position", env.position),
        replace("/updated_at", env.at),
    ]
