"""Full-text search over resolved cases and published articles: one query interface,
PostgreSQL full-text search (`tsvector`, GIN) or SQLite FTS5 behind it.

Contract of `search(conn, query)`:
- the text is never handed to the database as query syntax: it is read as words (letters
  and digits of any script) and "quoted phrases"; operators, brackets, stray quotes and
  control characters are only separators; at most `MAX_TERMS` terms of `MAX_TERM_CHARS`
  characters count (the rest is ignored), so no input gives a database error;
- common English words are dropped unless nothing else is left;
- documents holding every term rank first (ranked by the backend's relevance: PostgreSQL's
  `ts_rank` with the title weighted over the body, SQLite's `bm25` with the title worth
  four times the body), then, when that gives fewer than `limit`, those holding any term;
  an article's reuses lift its rank (up to x2 at 10 reuses);
- ranking reads every ranked document's index entry, so at most `candidates` documents
  are ranked per pass: PostgreSQL takes the first that match (its index does not order
  them), SQLite the newest (FTS5 walks its matches by rowid); a query matching more
  documents than that is ranked among those (narrow it with more words or a filter);
- filters: product area (exact), statuses, kinds; `exclude` leaves one document out;
- each hit carries a highlight: the best passage of the body (or the title), HTML-escaped,
  matched terms in `<mark>`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

MAX_TERMS = 16
CANDIDATES = 300
MAX_TERM_CHARS = 64
DEFAULT_STATUSES = ("resolved", "closed", "published", "flagged")
KINDS = ("article", "case")
_PHRASE = re.compile(r'"([^"]*)"')
_WORD = re.compile(r"[^\W_]+")  # letters and digits of any script
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
START, STOP = "\x02", "\x03"  # highlight markers, made `<mark>` after escaping
_STOPWORDS_TEXT = """
    a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for
    from further had has have having he her here hers herself him himself his how i if in
    into is it its itself just me more most my myself no nor not now of off on once only or
    other our ours ourselves out over own same she should so some such than that the their
    theirs them themselves then there these they this those through to too under until up
    very was we were what when where which while who whom why will with would you your
    yours yourself yourselves"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())


@dataclass(frozen=True, slots=True)
class Terms:
    """A query read as words and phrases (each a tuple of words)."""

    words: tuple[str, ...]
    phrases: tuple[tuple[str, ...], ...]

    @property
    def empty(self) -> bool:
        return not self.words and not self.phrases


def parse(text: str, max_terms: int = MAX_TERMS) -> Terms:
    """`text` as words and "phrases" (see the module docstring)."""
    text = _CONTROL.sub(" ", text[: max_terms * (MAX_TERM_CHARS + 8)])
    phrases: list[tuple[str, ...]] = []
    for found in _PHRASE.findall(text):
        phrase = tuple(w[:MAX_TERM_CHARS] for w in _WORD.findall(found.lower()))
        if len(phrase) > 1:
            phrases.append(phrase[:8])
    rest = _PHRASE.sub(lambda m: m.group(0) if len(_WORD.findall(m.group(1))) <= 1 else " ", text)
    words_all = [w[:MAX_TERM_CHARS] for w in _WORD.findall(rest.lower())]
    words = [w for w in dict.fromkeys(words_all) if w not in STOPWORDS] or list(
        dict.fromkeys(words_all)
    )
    room = max(0, max_terms - len(phrases))
    return Terms(tuple(words[:room]), tuple(phrases[:max_terms]))


@dataclass(frozen=True, slots=True)
class SearchQuery:
    text: str
    product_area: str | None = None
    statuses: tuple[str, ...] = DEFAULT_STATUSES
    kinds: tuple[str, ...] = KINDS
    limit: int = 20
    exclude: tuple[str, str] | None = None  # (kind, id)
    all_terms_first: bool = True  # False: rank documents holding any term at once
    candidates: int = CANDIDATES  # documents ranked at most (see the module docstring)


@dataclass(frozen=True, slots=True)
class Hit:
    kind: str
    id: str
    title: str
    product_area: str
    status: str
    rank: float
    highlight: str
    reuse_count: int
    updated_at: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "title": self.title,
            "product_area": self.product_area,
            "status": self.status,
            "rank": self.rank,
            "highlight": self.highlight,
            "reuse_count": self.reuse_count,
            "updated_at": self.updated_at,
        }


async def search(
    conn: AsyncConnection, query: SearchQuery, terms: Terms | None = None
) -> list[Hit]:
    """The ranked hits of `query` (see the module docstring); `terms` overrides the
    parsing of `query.text`."""
    terms = terms if terms is not None else parse(query.text)
    if terms.empty or query.limit <= 0 or not query.statuses or not query.kinds:
        return []
    run = _postgres if conn.dialect.name == "postgresql" else _sqlite
    several = len(terms.words) + len(terms.phrases) > 1
    if not query.all_terms_first and several:
        return await run(conn, query, terms, every=False)
    hits = await run(conn, query, terms, every=True)
    if len(hits) < query.limit and several:
        seen = {(h.kind, h.id) for h in hits}
        more = await run(conn, query, terms, every=False)
        hits += [h for h in more if (h.kind, h.id) not in seen][: query.limit - len(hits)]
    return hits


def _filters(query: SearchQuery, params: dict[str, Any], prefix: str = "") -> str:
    clauses = [f"{prefix}status IN :statuses", f"{prefix}kind IN :kinds"]
    params["statuses"], params["kinds"] = list(query.statuses), list(query.kinds)
    if query.product_area is not None:
        clauses.append(f"{prefix}product_area = :area")
        params["area"] = query.product_area
    if query.exclude is not None:
        clauses.append(f"NOT ({prefix}kind = :ex_kind AND {prefix}id = :ex_id)")
        params["ex_kind"], params["ex_id"] = query.exclude
    return " AND ".join(clauses)


def _expanding(sql: str) -> sa.TextClause:
    return sa.text(sql).bindparams(
        sa.bindparam("statuses", expanding=True), sa.bindparam("kinds", expanding=True)
    )


async def _postgres(
    conn: AsyncConnection, query: SearchQuery, terms: Terms, *, every: bool
) -> list[Hit]:
    params: dict[str, Any] = {"limit": query.limit}
    # The terms are written into the statement as literals (they hold only letters and
    # digits, `_WORD`; quotes doubled all the same), so the planner folds the query and
    # estimates its selectivity from the column's statistics: a broad query scans the
    # table and stops at `candidates` matches, a narrow one uses the GIN index. (As
    # parameters, a prepared statement's generic plan took the index for every query,
    # building a bitmap of most of the table for broad ones.)
    parts = [f"plainto_tsquery('english', {_literal(w)})" for w in terms.words]
    parts += [f"phraseto_tsquery('english', {_literal(' '.join(p))})" for p in terms.phrases]
    tsquery = (" && " if every else " || ").join(parts)
    params["candidates"] = query.candidates
    sql = f"""
        WITH q AS (SELECT ({tsquery}) AS q),
        cand AS (
            SELECT d.kind, d.id, d.reuse_count, d.position, d.tsv
            FROM search_docs d
            WHERE d.tsv @@ ({tsquery}) AND {_filters(query, params, "d.")}
            LIMIT :candidates
        ),
        top AS (
            SELECT cand.kind, cand.id, cand.position,
                   ts_rank_cd(cand.tsv, q.q, 1) * (1 + 0.1 * least(cand.reuse_count, 10))
                   AS rank
            FROM cand, q
            ORDER BY rank DESC, cand.position DESC
            LIMIT :limit
        )
        SELECT d.kind, d.id, d.title, d.product_area, d.status, top.rank,
               ts_headline('english', d.body, q.q,
                   'StartSel=' || chr(2) || ', StopSel=' || chr(3)
                   || ', MaxWords=24, MinWords=8, MaxFragments=2, FragmentDelimiter=" … "')
                   AS highlight,
               ts_headline('english', d.title, q.q,
                   'StartSel=' || chr(2) || ', StopSel=' || chr(3) || ', HighlightAll=true')
                   AS title_highlight,
               d.reuse_count, d.updated_at
        FROM top JOIN search_docs d ON d.kind = top.kind AND d.id = top.id, q
        ORDER BY top.rank DESC, top.position DESC
    """
    rows = (await conn.execute(_expanding(sql), params)).all()
    return [_hit(r) for r in rows]


def _literal(text: str) -> str:
    if not all(part.isalnum() for part in text.split(" ")):
        raise ValueError(f"not a search term: {text!r}")
    return "'" + text.replace("'", "''") + "'"


def _fts_string(words: Sequence[str]) -> str:
    return '"' + " ".join(w.replace('"', '""') for w in words) + '"'


async def _sqlite(
    conn: AsyncConnection, query: SearchQuery, terms: Terms, *, every: bool
) -> list[Hit]:
    items = [_fts_string([w]) for w in terms.words] + [_fts_string(p) for p in terms.phrases]
    filtered = query.product_area is not None
    params: dict[str, Any] = {
        "match": (" AND " if every else " OR ").join(items),
        "limit": query.limit,
        # the filters apply to the candidates: take more when they are narrow
        "candidates": query.candidates * (8 if filtered else 1),
    }
    sql = f"""
        WITH cand AS (
            SELECT rowid AS doc_no, rank AS bm FROM search_fts
            WHERE search_fts MATCH :match AND rank MATCH 'bm25(4.0, 1.0)'
            ORDER BY rowid DESC LIMIT :candidates
        )
        SELECT d.doc_no, d.kind, d.id, d.title, d.product_area, d.status,
               -cand.bm * (1 + 0.1 * min(d.reuse_count, 10)) AS rank,
               d.reuse_count, d.updated_at
        FROM cand JOIN search_docs d ON d.doc_no = cand.doc_no
        WHERE {_filters(query, params, "d.")}
        ORDER BY rank DESC, d.position DESC
        LIMIT :limit
    """
    rows = (await conn.execute(_expanding(sql), params)).all()
    if not rows:
        return []
    marks = sa.text(
        "SELECT rowid, snippet(search_fts, 1, char(2), char(3), ' … ', 24),"
        " highlight(search_fts, 0, char(2), char(3)) FROM search_fts"
        " WHERE search_fts MATCH :match AND rowid IN :rows"
    ).bindparams(sa.bindparam("rows", expanding=True))
    found = await conn.execute(marks, {"match": params["match"], "rows": [r.doc_no for r in rows]})
    passages = {r[0]: (r[1], r[2]) for r in found}
    return [_hit(r, *passages.get(r.doc_no, ("", ""))) for r in rows]


def _marked(text: str) -> str:
    return html.escape(text).replace(START, "<mark>").replace(STOP, "</mark>")


def _hit(row: Any, body: str | None = None, title: str | None = None) -> Hit:
    if body is None:
        body, title = row.highlight, row.title_highlight
    body, title = body or "", title or ""
    passage = body if START in body or START not in title else title
    return Hit(
        kind=row.kind,
        id=row.id,
        title=row.title,
        product_area=row.product_area,
        status=row.status,
        rank=round(float(row.rank), 6),
        highlight=_marked(passage),
        reuse_count=int(row.reuse_count),
        updated_at=row.updated_at,
    )
