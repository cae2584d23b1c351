"""Full-text search over resolved cases and published articles: one query interface,
PostgreSQL full-text search (`tsvector`, GIN) or SQLite FTS5 behind it.

Contract of `search(conn, query)`:
- the text is never handed to the database as query syntax: it is read as words (letters
  and digits of any script) and "quoted phrases"; operators, brackets, stray quotes and
  control characters are only separators; at most `MAX_TERMS` terms of `MAX_TERM_CHARS`
  characters count (the rest is ignored), so no input gives a database error;
- CJK runs (`projections.cjk`) are read as their character bigrams: a run of two
  characters is a word, a longer one the phrase of its bigrams, matched against the
  bigram columns of the index, so a word inside a run without spaces is found;
- common English words are dropped unless nothing else is left;
- documents holding every term rank first (ranked by the backend's relevance: PostgreSQL's
  `ts_rank_cd` with the title weighted over the body, SQLite's `bm25` with the title worth
  four times the body), then, when that gives fewer than `limit`, those holding any term;
  reuses lift a document's rank (an article's or a solved case's: up to x2 at 10);
- ranking reads every ranked document's index entry, so at most `candidates` documents
  are ranked per pass: PostgreSQL takes the first that match (its index does not order
  them), SQLite the newest (FTS5 walks its matches by rowid); a query matching more
  documents than that is ranked among those (narrow it with more words or a filter).
  PostgreSQL finds them through its GIN index, never a scan (unless `broad`), and checks
  a phrase on at most `POOL` documents holding all of its words;
- filters: product area (exact), statuses, kinds; `exclude` leaves one document out;
- each hit carries a highlight: the best passage of the body (or the title), HTML-escaped,
  matched terms in `<mark>` (CJK runs of the query marked where the passage holds them).

`rarest(conn, terms, keep, most)` (SQLite, for an open case's similar ones): FTS5's `bm25`
counts the documents of every term over its whole posting list, which for a case's common
words was most of the search's time; so the terms are first counted among the newest
`SAMPLE` documents (cheap: FTS5 seeks by rowid, and a count stops at a tenth of them),
and only the `keep` rarest (with those the sample lacks) are searched.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from projections.cjk import has_cjk
from projections.search_terms import Terms, parse

CANDIDATES = 300
SAMPLE = 1_000  # the newest documents a term is counted in, to find the rarest (SQLite)
POOL = 1_000  # documents holding every word of a phrase query, checked for the phrases
DEFAULT_STATUSES = ("resolved", "closed", "published", "flagged")
KINDS = ("article", "case")
START, STOP = "\x02", "\x03"  # highlight markers, made `<mark>` after escaping


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
    #: Many terms, some common (an open case's text): PostgreSQL may scan the table (its
    #: planner's choice), which stops at `candidates`; otherwise its GIN index answers.
    broad: bool = False


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
    # estimates its selectivity from the column's statistics. (As parameters, a prepared
    # statement's generic plan took the index for every query, building a bitmap of most
    # of the table for broad ones.)
    join = " && " if every else " || "
    words = [f"plainto_tsquery('english', {_literal(w)})" for w in terms.words]
    phrases = [f"phraseto_tsquery('english', {_literal(' '.join(p))})" for p in terms.phrases]
    tsquery = join.join(words + phrases)
    params["candidates"] = query.candidates
    filters = _filters(query, params, "d.")
    if terms.phrases:
        # A phrase is checked on each document's `tsv` (the index only knows its words):
        # check at most `POOL` documents holding its words, not every one of them.
        loose = join.join(words + [f"plainto_tsquery('english', {_literal(' '.join(p))})"
                                   for p in terms.phrases])  # fmt: skip
        params["pool"] = POOL
        cand = f"""
            pool AS (
                SELECT d.kind, d.id, d.reuse_count, d.position, d.tsv FROM search_docs d
                WHERE d.tsv @@ ({loose}) AND {filters}
                LIMIT :pool
            ),
            cand AS (
                SELECT * FROM pool WHERE pool.tsv @@ ({tsquery}) LIMIT :candidates
            )"""
    else:
        cand = f"""
            cand AS (
                SELECT d.kind, d.id, d.reuse_count, d.position, d.tsv
                FROM search_docs d
                WHERE d.tsv @@ ({tsquery}) AND {filters}
                LIMIT :candidates
            )"""
    sql = f"""
        WITH q AS (SELECT ({tsquery}) AS q),
        {cand},
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
    if query.broad:  # most documents match: a scan stops at `candidates` soonest
        rows = (await conn.execute(_expanding(sql), params)).all()
        return [_hit(r, terms=terms) for r in rows]
    # Otherwise the GIN index, always. The planner prices a scan's `@@` as cheap, but
    # each row it rejects costs a read of its `tsv` (TOASTed): a word in 4% of the
    # documents scanned 8,000 rows for 300 candidates (58 ms; the index: 5 ms), three
    # words in one product area 11,000 (32 ms; the index: 1 ms), and a phrase whose
    # words are common the whole table (1 s).
    # (A failed statement ends the transaction, and the setting with it.)
    await conn.execute(sa.text("SET LOCAL enable_seqscan = off"))
    rows = (await conn.execute(_expanding(sql), params)).all()
    await conn.execute(sa.text("SET LOCAL enable_seqscan = DEFAULT"))
    return [_hit(r, terms=terms) for r in rows]


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
            WHERE search_fts MATCH :match AND rank MATCH 'bm25(4.0, 1.0, 4.0, 1.0)'
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
    return [_hit(r, *passages.get(r.doc_no, ("", "")), terms=terms) for r in rows]


async def rarest(conn: AsyncConnection, terms: Terms, keep: int, most: int) -> Terms:
    """The `keep` rarest of `terms` (those found in the fewest of the newest `SAMPLE`
    documents), and those found in none of them, `most` in all, in their order (SQLite:
    see the module docstring)."""
    items = [(w,) for w in terms.words] + list(terms.phrases)
    if len(items) <= keep:
        return terms
    params: dict[str, Any] = {"sample": SAMPLE, "common": SAMPLE // 10}
    parts = []
    for n, item in enumerate(items):
        params[f"t{n}"] = _fts_string(item)
        parts.append(
            f"SELECT {n}, count(*) FROM (SELECT 1 FROM search_fts WHERE search_fts MATCH :t{n}"
            " AND rowid > (SELECT coalesce(max(doc_no), 0) FROM search_docs) - :sample"
            " LIMIT :common)"
        )
    result = await conn.execute(sa.text(" UNION ALL ".join(parts)), params)
    counts = {int(n): int(c) for n, c in result}
    order = sorted(range(len(items)), key=lambda n: (counts.get(n, 0), n))
    found = [n for n in order if counts.get(n, 0) > 0][:keep]
    unseen = [n for n in order if counts.get(n, 0) == 0][: max(0, most - len(found))]
    chosen = [items[n] for n in sorted(found + unseen)]
    return Terms(tuple(i[0] for i in chosen if len(i) == 1), tuple(i for i in chosen if len(i) > 1))


def _marked(text: str) -> str:
    return html.escape(text).replace(START, "<mark>").replace(STOP, "</mark>")


def _mark_cjk(text: str, terms: Terms | None) -> str:
    """`<mark>` the query's CJK runs in an escaped passage: the backends match them in
    the bigram columns, so their own highlighting does not see them in the text."""
    if terms is None:
        return text
    runs = [p[0] + "".join(g[1:] for g in p[1:]) for p in terms.phrases if has_cjk(p[0])]
    runs += [w for w in terms.words if has_cjk(w)]
    for run in sorted(set(runs), key=len, reverse=True):
        if run in text and f"<mark>{run}</mark>" not in text:
            text = text.replace(run, f"<mark>{run}</mark>")
    return text


def _cjk_marked(text: str, terms: Terms | None) -> bool:
    return "<mark>" in _mark_cjk(html.escape(text), terms)


def _hit(
    row: Any, body: str | None = None, title: str | None = None, *, terms: Terms | None = None
) -> Hit:
    if body is None:
        body, title = row.highlight, row.title_highlight
    body, title = body or "", title or ""
    passage = body if START in body or START not in title else title
    if START not in passage and _cjk_marked(title, terms) and not _cjk_marked(body, terms):
        passage = title  # matched by a CJK run of the title only
    return Hit(
        kind=row.kind,
        id=row.id,
        title=row.title,
        product_area=row.product_area,
        status=row.status,
        rank=round(float(row.rank), 6),
        highlight=_mark_cjk(_marked(passage), terms),
        reuse_count=int(row.reuse_count),
        updated_at=row.updated_at,
    )
