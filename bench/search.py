"""Search benchmark: full-text search over 100,000 resolved cases and 10,000 articles.

1. `search`: latency of `Knowledge.search` (the query interface `GET /api/search` calls)
   over a synthetic corpus (targets: p99 <= 50 ms on PostgreSQL, <= 100 ms on SQLite).
   Queries: one to three words and two-word phrases drawn from the corpus's own word
   frequencies (a Zipf law, the 30 most common words left out as a user would), with a
   product-area filter on a fifth of them. Baseline, side by side: the same queries as a
   substring scan (`LIKE '%word%'` on title and body, what a search without a
   full-text index does), on a sample.
2. `similar`: the work similar-case suggestions add when a case is opened: the search the
   indexer runs on the new case's subject, description and context (up to 10 words, any of
   them; alone, over the corpus), then cases opened one at a time through the store and
   the projector: the projector's batch for the `Opened` event, the indexer's whole step
   for it (documents read, similar search, rows and tracking written) and the search in
   it: what the suggestions add to the case's projection (target <= 10 ms). The indexer
   runs behind the projector, so its step adds nothing to the projector's batch itself;
   the search in it is the added cost the last line of the report names.

The corpus is written straight into the search tables (rows shaped as the indexer derives
them: `projections.search_rows`), so the figures are the search's, not the log's.

Run: .venv/bin/python -m bench.search [--backend postgres|sqlite|both] [--quick] [--json P]
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from app.store import create_store
from bench.common import (
    PG_URL,
    LatencyStats,
    as_dict,
    common_parser,
    fmt,
    format_table,
    fresh_pg_schema,
    fresh_sqlite_url,
    ratio,
    run_async,
    write_json,
)
from domain import Actor, Case, Role
from projections.db import create_views_engine
from projections.knowledge import Knowledge
from projections.knowledge_index import KnowledgeIndex
from projections.search import SearchQuery
from projections.search_terms import parse
from tests.views_support import append, projector_for

AREAS = ("identity", "billing", "media", "network", "storage", "mobile", "api", "reports")
SYLLABLES = [c + v for c in "bcdfgklmnprstvz" for v in ("a", "e", "i", "o", "u", "ai", "ou")]


@dataclass
class Vocabulary:
    words: list[str]
    cumulative: list[float]

    @classmethod
    def make(cls, size: int, rng: random.Random) -> Vocabulary:
        words: set[str] = set()
        while len(words) < size:
            words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
        ordered = sorted(words)
        rng.shuffle(ordered)
        total, cumulative = 0.0, []
        for rank in range(1, size + 1):
            total += 1 / rank**1.07
            cumulative.append(total)
        return cls(ordered, cumulative)


def corpus_rows(
    cases: int, articles: int, vocab: Vocabulary, rng: random.Random
) -> AsyncIterator[list[dict[str, Any]]]:
    async def pages() -> AsyncIterator[list[dict[str, Any]]]:
        page: list[dict[str, Any]] = []
        for n in range(cases + articles):
            kind = "case" if n < cases else "article"
            words = rng.choices(vocab.words, cum_weights=vocab.cumulative, k=rng.randint(60, 200))
            title = rng.choices(vocab.words, cum_weights=vocab.cumulative, k=rng.randint(4, 8))
            sentences = [
                " ".join(words[i : i + 12]).capitalize() + "." for i in range(0, len(words), 12)
            ]
            page.append(
                {
                    "kind": kind,
                    "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "title": " ".join(title).capitalize(),
                    "body": "\n".join(sentences),
                    "product_area": rng.choice(AREAS),
                    "status": rng.choice(("resolved", "closed")) if kind == "case" else "published",
                    "reuse_count": rng.randint(0, 12) if kind == "article" else 0,
                    "updated_at": "2026-12-07T00:00:00+00:00",
                    "position": n + 1,
                }
            )
            if len(page) == 2_000:
                yield page
                page = []
        if page:
            yield page

    return pages()


INSERT = sa.text(
    "INSERT INTO search_docs (kind, id, title, body, product_area, status, reuse_count,"
    " updated_at, position) VALUES (:kind, :id, :title, :body, :product_area, :status,"
    " :reuse_count, :updated_at, :position)"
)


async def load(
    engine: AsyncEngine, cases: int, articles: int, vocab: Vocabulary, seed: int
) -> float:
    started = time.perf_counter()
    async for page in corpus_rows(cases, articles, vocab, random.Random(seed)):
        async with engine.begin() as conn:
            await conn.execute(INSERT, page)
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(sa.text("ANALYZE search_docs"))
        else:
            await conn.execute(sa.text("INSERT INTO search_fts (search_fts) VALUES ('optimize')"))
            await conn.execute(sa.text("ANALYZE"))
    return time.perf_counter() - started


def queries(vocab: Vocabulary, n: int, rng: random.Random) -> list[SearchQuery]:
    common = 30
    pool = vocab.words[common:]
    weights = [
        vocab.cumulative[i] - vocab.cumulative[i - 1] for i in range(common, len(vocab.words))
    ]
    out = []
    for _ in range(n):
        shape = rng.random()
        words = rng.choices(pool, weights=weights, k=3)
        if shape < 0.4:
            text = words[0]
        elif shape < 0.8:
            text = " ".join(words[:2])
        elif shape < 0.95:
            text = " ".join(words)
        else:
            text = f'"{words[0]} {words[1]}"'
        area = rng.choice(AREAS) if rng.random() < 0.2 else None
        out.append(SearchQuery(text, product_area=area))
    return out


async def timed_search(knowledge: Knowledge, qs: Sequence[SearchQuery]) -> tuple[list[float], int]:
    seconds, hits = [], 0
    for q in qs:
        started = time.perf_counter()
        found = await knowledge.search(q)
        seconds.append(time.perf_counter() - started)
        hits += len(found)
    return seconds, hits


async def timed_like(engine: AsyncEngine, qs: Sequence[SearchQuery]) -> list[float]:
    seconds = []
    for q in qs:
        terms = parse(q.text)
        words = list(terms.words) + [" ".join(p) for p in terms.phrases]
        clauses = " AND ".join(
            f"(lower(title) LIKE :w{i} OR lower(body) LIKE :w{i})" for i in range(len(words))
        )
        params = {f"w{i}": f"%{w}%" for i, w in enumerate(words)}
        sql = (
            f"SELECT kind, id, title FROM search_docs WHERE {clauses}"
            " ORDER BY position DESC LIMIT 20"
        )
        started = time.perf_counter()
        async with engine.connect() as conn:
            (await conn.execute(sa.text(sql), params)).all()
        seconds.append(time.perf_counter() - started)
    return seconds


def bases(vocab: Vocabulary, n: int, rng: random.Random) -> list[str]:
    return [
        " ".join(rng.choices(vocab.words, cum_weights=vocab.cumulative, k=6)).capitalize()
        + ". "
        + " ".join(rng.choices(vocab.words, cum_weights=vocab.cumulative, k=30))
        for _ in range(n)
    ]


async def timed_similar(engine: AsyncEngine, texts: Sequence[str]) -> list[float]:
    index = KnowledgeIndex(engine)
    seconds = []
    for text in texts:
        started = time.perf_counter()
        async with engine.connect() as conn:
            await index.similar(conn, str(uuid.uuid4()), text)
        seconds.append(time.perf_counter() - started)
    return seconds


async def timed_opens(
    url: str, schema: str | None, vocab: Vocabulary, n: int, rng: random.Random
) -> tuple[list[float], list[float], list[float]]:
    """Open `n` cases one at a time through the store and the projector; for each: the
    projector's batch (seconds), the indexer's step for it, and the similar search in it."""
    owner = Actor(uuid.uuid4(), Role.AGENT, "Olga")
    texts = bases(vocab, n + 1, rng)
    batches: list[float] = []
    steps: list[float] = []
    searches: list[float] = []
    async with create_store(url, schema=schema) as store:
        projector = projector_for(store, url, schema)
        projector.on_batch = lambda rows, seconds: batches.append(seconds)
        projector.start()
        index = KnowledgeIndex(projector.engine)
        try:
            for i, text in enumerate(texts):
                subject, _, description = text.partition(". ")
                case = Case.open(owner, customer="ACME", subject=subject, description=description)
                position = await append(store, case)
                assert await projector.wait_for(position, 30)
                spent = index.similar_seconds
                started = time.perf_counter()
                while await index.step():
                    pass
                if i > 0:  # the first step indexes from position 0 (a full pass)
                    steps.append(time.perf_counter() - started)
                    searches.append(index.similar_seconds - spent)
        finally:
            await projector.close()
            await projector.engine.dispose()
    return batches[1:], steps, searches


@asynccontextmanager
async def database(backend: str) -> AsyncIterator[tuple[str, str | None]]:
    if backend == "postgres":
        async with fresh_pg_schema("search") as schema:
            yield PG_URL, schema
    else:
        async with fresh_sqlite_url("search") as url:
            yield url, None


async def run_backend(backend: str, args: Any) -> dict[str, Any]:
    rng = random.Random(args.seed)
    vocab = Vocabulary.make(args.vocabulary, rng)
    async with database(backend) as (url, schema):
        engine = create_views_engine(url, schema=schema)
        try:
            loaded = await load(engine, args.cases, args.articles, vocab, args.seed)
            knowledge = Knowledge(engine)
            qs = queries(vocab, args.queries, rng)
            await timed_search(knowledge, qs[:50])  # warm the caches
            seconds, hits = await timed_search(knowledge, qs)
            baseline = await timed_like(engine, qs[: args.baseline])
            same = await timed_search(knowledge, qs[: args.baseline])
            similar = await timed_similar(engine, bases(vocab, args.similar, rng))
        finally:
            await engine.dispose()
        print(
            f"{backend}: search p50 {LatencyStats.of(seconds).p50_ms:.2f} ms,"
            f" p99 {LatencyStats.of(seconds).p99_ms:.2f} ms; similar alone p99"
            f" {LatencyStats.of(similar).p99_ms:.2f} ms",
            flush=True,
        )
        batches, steps, searches = await timed_opens(url, schema, vocab, args.opens, rng)
    return {
        "backend": backend,
        "documents": args.cases + args.articles,
        "load_seconds": loaded,
        "search": LatencyStats.of(seconds),
        "hits_per_query": hits / max(1, len(qs)),
        "search_sample": LatencyStats.of(same[0]),
        "like_sample": LatencyStats.of(baseline),
        "similar": LatencyStats.of(similar),
        "open_projector_batch": LatencyStats.of(batches),
        "open_index_step": LatencyStats.of(steps),
        "open_similar_search": LatencyStats.of(searches),
    }


def report(results: list[dict[str, Any]]) -> str:
    rows = []
    for r in results:
        s, like, same, sim = r["search"], r["like_sample"], r["search_sample"], r["similar"]
        target = 50 if r["backend"] == "postgres" else 100
        rows.append(
            [
                r["backend"],
                fmt(r["documents"], 0),
                fmt(s.p50_ms, 2),
                fmt(s.p99_ms, 2),
                f"{target} ({'met' if s.p99_ms <= target else 'MISSED'})",
                fmt(like.p99_ms, 1),
                f"{fmt(ratio(like.p99_ms, same.p99_ms), 1)}x",
                fmt(sim.p50_ms, 2),
                f"{fmt(sim.p99_ms, 2)} ({'met' if sim.p99_ms <= 10 else 'MISSED'} 10)",
                fmt(r["hits_per_query"], 1),
            ]
        )
    headers = [
        "backend", "docs", "search p50 ms", "search p99 ms", "p99 target",
        "LIKE scan p99 ms", "LIKE/FTS p99", "similar p50 ms", "similar p99 ms", "hits/query",
    ]  # fmt: skip
    opens = []
    for r in results:
        batch, step, found = (
            r["open_projector_batch"],
            r["open_index_step"],
            r["open_similar_search"],
        )
        opens.append(
            [
                r["backend"],
                fmt(batch.count, 0),
                fmt(batch.p50_ms, 2),
                fmt(batch.p99_ms, 2),
                fmt(step.p50_ms, 2),
                fmt(step.p99_ms, 2),
                fmt(found.p50_ms, 2),
                f"{fmt(found.p99_ms, 2)} ({'met' if found.p99_ms <= 10 else 'MISSED'} 10)",
            ]
        )
    open_headers = [
        "backend", "opens", "projector batch p50 ms", "p99", "index step p50 ms", "p99",
        "suggestions added p50 ms", "p99 (target)",
    ]  # fmt: skip
    lines = [
        f"{r['backend']}: search p50 {r['search'].p50_ms:.2f} ms, p99 {r['search'].p99_ms:.2f}"
        f" ms (target {50 if r['backend'] == 'postgres' else 100});"
        f" similar-case suggestions on open add p50 {r['open_similar_search'].p50_ms:.2f} ms,"
        f" p99 {r['open_similar_search'].p99_ms:.2f} ms (target 10)"
        for r in results
    ]
    return "\n\n".join(
        [format_table(headers, rows), format_table(open_headers, opens), "\n".join(lines)]
    )


def main() -> None:
    parser = common_parser(__doc__.splitlines()[0] if __doc__ else "search")
    parser.add_argument("--backend", choices=("postgres", "sqlite", "both"), default="both")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=2_000)
    parser.add_argument("--baseline", type=int, default=50, help="queries run as LIKE scans")
    parser.add_argument("--similar", type=int, default=300)
    parser.add_argument("--opens", type=int, default=200, help="cases opened one by one")
    parser.add_argument("--vocabulary", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args()
    if args.quick:
        args.cases, args.articles, args.queries, args.similar = 10_000, 1_000, 300, 100
        args.opens = 50
    backends = ["postgres", "sqlite"] if args.backend == "both" else [args.backend]

    async def go() -> list[dict[str, Any]]:
        out = []
        for backend in backends:
            out.append(await run_backend(backend, args))
            print(report(out[-1:]), "\n", flush=True)  # each backend's figures when done
        return out

    results = run_async(go, args.loop)
    print(report(results))
    if args.json:
        write_json(
            args.json, {"results": [json.loads(json.dumps(r, default=as_dict)) for r in results]}
        )


if __name__ == "__main__":
    main()
