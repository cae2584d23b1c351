"""Search rows derived from view documents (as `projections.rows` derives summaries):
what of a case or an article is searched, and the text a case's similar ones are found
from. Derived from the final documents, so they never disagree with the views.

- a case is searchable once resolved or closed after a resolution: title = subject; body =
  description, context, insights, proposals (summaries and steps) and the resolution.
  The customer's name and contact are never indexed;
- an article is searchable once published (also flagged or retired, with that status);
  a draft is not;
- the case document's collections are read as lists or maps (`_items`), so a change of
  the document's shape (windows) does not stop the index;
- `title_grams`, `body_grams`: the CJK bigrams of the title and the body
  (`projections.cjk`), so text without spaces is found by any word of it;
- a body is cut at `MAX_BODY_CHARS` (PostgreSQL's `tsvector` has limits; nobody reads a
  snippet that far in).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from projections.cjk import grams
from projections.envelope import Doc

MAX_BODY_CHARS = 20_000
SEARCHED_ARTICLES = ("published", "flagged", "retired")
SIMILAR_CONTEXT = ("symptom", "environment")


def _items(value: Any) -> list[dict[str, Any]]:
    """The entries of a collection of the case document, held as a list or as a map by
    id (the document's windows may hold either), or of a window `{"items": [...]}`."""
    if isinstance(value, dict):
        inner = value.get("items")
        value = inner if isinstance(inner, list) else list(value.values())
    if not isinstance(value, list):
        return []
    return [v for v in value if isinstance(v, dict)]


def _join(parts: Iterable[Any]) -> str:
    return "\n".join(p.strip() for p in parts if isinstance(p, str) and p.strip())


def case_row(doc: Doc) -> dict[str, Any] | None:
    """The search row of a case document, or None while it is not solved."""
    resolution = doc.get("resolution")
    if doc.get("status") not in ("resolved", "closed") or not resolution:
        return None
    problem = doc.get("problem") or {}
    parts: list[Any] = [problem.get("description", "")]
    for items in (doc.get("context") or {}).values():
        parts += [i.get("text") for i in _items(items)]
    parts += [i.get("text") for i in _items(doc.get("insights"))]
    for proposal in _items(doc.get("proposals")):
        parts += [proposal.get("summary"), *(proposal.get("steps") or [])]
    parts.append(resolution.get("summary"))
    return _with_grams(
        {
            "kind": "case",
            "id": doc["case_id"],
            "title": problem.get("subject", ""),
            "body": _join(parts)[:MAX_BODY_CHARS],
            "product_area": doc.get("product_area", ""),
            "status": doc["status"],
            "reuse_count": int(doc.get("reuse_count", 0)),
            "updated_at": doc.get("updated_at", ""),
            "position": doc["position"],
        }
    )


def article_row(doc: Doc) -> dict[str, Any] | None:
    """The search row of an article document, or None while it is a draft."""
    if doc.get("status") not in SEARCHED_ARTICLES:
        return None
    sentences = [s.get("text") for part in doc["sections"].values() for s in part]
    return _with_grams(
        {
            "kind": "article",
            "id": doc["article_id"],
            "title": doc.get("title", ""),
            "body": _join(sentences)[:MAX_BODY_CHARS],
            "product_area": doc.get("product_area", ""),
            "status": doc["status"],
            "reuse_count": int(doc.get("reuse_count", 0)),
            "updated_at": doc.get("updated_at", ""),
            "position": doc["position"],
        }
    )


def _with_grams(row: dict[str, Any]) -> dict[str, Any]:
    row["title_grams"] = grams(row["title"])
    row["body_grams"] = grams(row["body"])
    return row


def similar_basis(doc: Doc) -> str | None:
    """The text an open case's similar ones are searched with (subject, description,
    symptoms, environment), or None when the case is not open."""
    if doc.get("status") != "open":
        return None
    problem = doc.get("problem") or {}
    context = doc.get("context") or {}
    parts: list[Any] = [problem.get("subject"), problem.get("description")]
    for kind in SIMILAR_CONTEXT:
        parts += [i.get("text") for i in _items(context.get(kind))]
    return _join(parts)


def digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
