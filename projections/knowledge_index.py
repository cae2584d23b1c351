"""The knowledge indexer: keeps the search tables (`projections.search_schema`) and the
similar cases of open cases in step with the views, behind the projector.

It follows the views, not the log: its position ("knowledge" in `tracking`) trails the
projector's ("views"). A step takes the case and article documents changed in (its
position, the projector's] (from `view_changes`), derives their search rows
(`projections.search_rows`) and writes the rows of documents that became (or stay)
searchable, then computes the similar solved cases and articles of every open case whose
subject, description, symptoms or environment changed (a search on that text, which
so finds a case solved in the same step), then writes the similar hits, the rows of
documents no longer searchable and its position in one transaction (a compare-and-set
from the position it read, checked before the rows too: a step computed on a stale
position writes nothing). Rows derive from the latest documents, so re-indexing a
document is harmless.
From position 0, or when retention removed changes it has not seen, it reads every case
and article document instead (a full re-index, in pages).

It runs beside the projector (woken by its committed batches, `wake`, and by a timer);
the reads come before the writes, so on SQLite the write lock is held only for the writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from projections.batches import CommittedBatch
from projections.search import SearchQuery, rarest, search
from projections.search_rows import article_row, case_row, digest, similar_basis
from projections.search_schema import TRACKING_NAME
from projections.search_terms import loose, parse
from projections.writer import TrackingMoved, load_doc

log = logging.getLogger(__name__)

SIMILAR_LIMIT = 5
SIMILAR_TERMS = 10  # terms of the case's text searched (PostgreSQL: its first ones)
SIMILAR_SCAN = 20  # SQLite: terms of the text looked at, of which ...
SIMILAR_RAREST = 5  # ... the rarest are searched (`projections.search.rarest`)
SIMILAR_CANDIDATES = 100  # documents ranked per similar search (its cost is theirs)
PAGE = 500

_UPSERT = sa.text(
    "INSERT INTO search_docs (kind, id, title, body, title_grams, body_grams, product_area,"
    " status, reuse_count, updated_at, position) VALUES (:kind, :id, :title, :body,"
    " :title_grams, :body_grams, :product_area, :status, :reuse_count, :updated_at,"
    " :position) ON CONFLICT (kind, id) DO UPDATE SET title = excluded.title,"
    " body = excluded.body, title_grams = excluded.title_grams,"
    " body_grams = excluded.body_grams, product_area = excluded.product_area,"
    " status = excluded.status, reuse_count = excluded.reuse_count,"
    " updated_at = excluded.updated_at, position = excluded.position"
)
_DELETE = sa.text("DELETE FROM search_docs WHERE kind = :kind AND id = :id")
_SIMILAR = sa.text(
    "INSERT INTO case_similar (case_id, position, basis, hits) VALUES (:case_id, :position,"
    " :basis, :hits) ON CONFLICT (case_id) DO UPDATE SET position = excluded.position,"
    " basis = excluded.basis, hits = excluded.hits"
)


async def tracked(conn: AsyncConnection, name: str) -> int:
    q = sa.text("SELECT position FROM tracking WHERE application_name = :n")
    value = (await conn.execute(q, {"n": name})).scalar()
    return int(value) if value is not None else 0


async def move_tracking(conn: AsyncConnection, expected: int, position: int) -> None:
    """Compare-and-set the indexer's position (`TrackingMoved` when it moved)."""
    params = {"n": TRACKING_NAME, "e": expected, "p": position}
    q = "UPDATE tracking SET position = :p WHERE application_name = :n AND position = :e"
    if (await conn.execute(sa.text(q), params)).rowcount == 1:
        return
    if expected == 0:
        insert = (
            "INSERT INTO tracking (application_name, position) VALUES (:n, :p)"
            " ON CONFLICT DO NOTHING"
        )
        if (await conn.execute(sa.text(insert), params)).rowcount == 1:
            return
    raise TrackingMoved(f"knowledge tracking is no longer at {expected}")


class KnowledgeIndex:
    """See the module docstring. `position`: what it has indexed."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        window: int = 5_000,
        poll: float = 1.0,
        linger: float = 0.05,
        leading: Callable[[], bool] = lambda: True,
    ) -> None:
        self.engine = engine
        #: Whether this process leads the projection: only the leader's indexer works (the
        #: tracking compare-and-set would refuse the others' steps anyway, after the work).
        self.leading = leading
        self.window = window  # positions per step
        self.poll = poll
        #: Once woken, wait this long before the step, so that under load one step takes
        #: many batches of the projector (its reads and its transaction are per step).
        self.linger = linger
        self.position = 0
        self.steps = 0
        self.similar_computed = 0
        self.similar_seconds = 0.0  # spent computing similar cases (a metric)
        self._wake = asyncio.Event()
        self._advanced = asyncio.Condition()

    def wake(self, batch: CommittedBatch) -> None:
        """A projector listener: the views moved."""
        self._wake.set()

    async def run(self) -> None:
        """Index until cancelled; a failed step is retried after `poll` seconds."""
        while True:
            try:
                moved = await self.step() if self.leading() else False
            except TrackingMoved as exc:
                log.info("knowledge index restarts: %s", exc)
                moved = True
            except Exception:
                log.exception("knowledge index step failed; retrying")
                moved = False
            if not moved:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll)
                self._wake.clear()
                await asyncio.sleep(self.linger)

    async def wait_for(self, position: int, timeout: float) -> bool:  # noqa: ASYNC109
        """True once the index has reached `position` (False after `timeout`)."""
        async with self._advanced:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._advanced.wait_for(lambda: self.position >= position), timeout
                )
        return self.position >= position

    async def step(self) -> bool:
        """Index what the views changed since the last step; False when nothing had."""
        async with self.engine.connect() as conn:
            start = await tracked(conn, TRACKING_NAME)
            views = await tracked(conn, "views")
            if views <= start:
                await self._advance(start)
                return False
            if start == 0 or await _gap(conn, start):
                await self._full(conn)
                upto = views
                keys: list[tuple[str, str]] = []
            else:
                upto = min(views, start + self.window)
                keys = await _changed(conn, start, upto)
            docs = await _docs(conn, keys)
            rows, gone, _ = await self._derive(conn, docs, similar=False)
            await conn.rollback()  # the reads' transaction ends before the writes' begins
        if rows:  # searchable now: written first, so this step's similar searches find them
            async with self.engine.begin() as conn:
                if await tracked(conn, TRACKING_NAME) != start:
                    raise TrackingMoved(f"knowledge tracking is no longer at {start}")
                await _write(conn, rows, [], [])
        async with self.engine.connect() as conn:
            _, _, similar = await self._derive(conn, docs)
            await conn.rollback()
        async with self.engine.begin() as conn:
            await _write(conn, [], gone, similar)
            await move_tracking(conn, start, upto)
        self.steps += 1
        await self._advance(upto)
        return True

    async def _full(self, conn: AsyncConnection) -> None:
        """Every case and article document indexed afresh, page by page (each page in a
        transaction of its own: rows are derived, so a partial pass is harmless); then
        the similar cases of every open case, against the whole index."""
        for similar in (False, True):
            after = ""
            while True:
                q = sa.text(
                    "SELECT view, key FROM case_views WHERE view IN ('case', 'article')"
                    " AND view || '/' || key > :after ORDER BY view || '/' || key LIMIT :n"
                )
                params = {"after": after, "n": PAGE}
                page = [(r[0], r[1]) for r in await conn.execute(q, params)]
                if not page:
                    break
                after = f"{page[-1][0]}/{page[-1][1]}"
                docs = await _docs(conn, page)
                rows, gone, found = await self._derive(conn, docs, similar=similar)
                await conn.rollback()
                async with self.engine.begin() as write:
                    await _write(write, [] if similar else rows, [] if similar else gone, found)

    async def _derive(
        self,
        conn: AsyncConnection,
        docs: Sequence[tuple[str, dict[str, Any]]],
        *,
        similar: bool = True,
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
        rows: list[dict[str, Any]] = []
        gone: list[dict[str, Any]] = []
        found: list[dict[str, Any]] = []
        for view, doc in docs:
            row = case_row(doc) if view == "case" else article_row(doc)
            key = doc["case_id"] if view == "case" else doc["article_id"]
            if row is None:
                gone.append({"kind": view, "id": key})
            else:
                rows.append(row)
        if not similar:
            return rows, gone, found
        open_cases = {d["case_id"]: d for v, d in docs if v == "case"}
        bases = {k: b for k, d in open_cases.items() if (b := similar_basis(d)) is not None}
        if bases:
            known = await _bases(conn, list(bases))
            for case_id, basis in bases.items():
                if known.get(case_id) == digest(basis):
                    continue
                hits = await self.similar(conn, case_id, basis)
                found.append(
                    {
                        "case_id": case_id,
                        "position": open_cases[case_id]["position"],
                        "basis": digest(basis),
                        "hits": json.dumps([h.as_dict() for h in hits]),
                    }
                )
        return rows, gone, found

    async def similar(self, conn: AsyncConnection, case_id: str, basis: str) -> list[Any]:
        """The solved cases and articles most like an open case's text."""
        started = time.perf_counter()
        query = SearchQuery(
            "",
            exclude=("case", case_id),
            limit=SIMILAR_LIMIT,
            all_terms_first=False,
            candidates=SIMILAR_CANDIDATES,
            broad=True,
        )
        if conn.dialect.name == "postgresql":
            terms = loose(parse(basis, SIMILAR_TERMS), SIMILAR_TERMS)
        else:
            terms = loose(parse(basis, SIMILAR_SCAN), SIMILAR_SCAN)
            terms = await rarest(conn, terms, SIMILAR_RAREST, SIMILAR_TERMS)
        hits = await search(conn, query, terms)
        self.similar_computed += 1
        self.similar_seconds += time.perf_counter() - started
        return hits

    async def _advance(self, position: int) -> None:
        async with self._advanced:
            self.position = position
            self._advanced.notify_all()


async def _write(
    conn: AsyncConnection,
    rows: list[dict[str, Any]],
    gone: list[dict[str, Any]],
    similar: list[dict[str, Any]],
) -> None:
    if rows:
        await conn.execute(_UPSERT, rows)
    if gone:
        await conn.execute(_DELETE, gone)
    if similar:
        await conn.execute(_SIMILAR, similar)


async def _gap(conn: AsyncConnection, start: int) -> bool:
    """Whether retention removed changes after `start` that the index has not seen."""
    oldest = (await conn.execute(sa.text("SELECT min(position) FROM view_changes"))).scalar()
    return oldest is not None and int(oldest) > start + 1


async def _changed(conn: AsyncConnection, after: int, upto: int) -> list[tuple[str, str]]:
    q = sa.text(
        "SELECT DISTINCT view, key FROM view_changes WHERE position > :a AND position <= :u"
        " AND view IN ('case', 'article')"
    )
    return [(r[0], r[1]) for r in await conn.execute(q, {"a": after, "u": upto})]


async def _docs(
    conn: AsyncConnection, keys: Sequence[tuple[str, str]]
) -> list[tuple[str, dict[str, Any]]]:
    """The documents of `keys`: a case's assembled with its windows (`load_doc`: its
    `case_views` row holds only the core), articles by pages."""
    out: list[tuple[str, dict[str, Any]]] = []
    for view, key in keys:
        if view == "case" and (doc := await load_doc(conn, "case", key)) is not None:
            out.append(("case", doc))
    wanted = [k for v, k in keys if v == "article"]
    for n in range(0, len(wanted), PAGE):
        q = sa.text(
            "SELECT doc FROM case_views WHERE view = 'article' AND key IN :keys"
        ).bindparams(sa.bindparam("keys", expanding=True))
        result = await conn.execute(q, {"keys": wanted[n : n + PAGE]})
        out += [("article", json.loads(r[0])) for r in result]
    return out


async def _bases(conn: AsyncConnection, case_ids: list[str]) -> dict[str, str]:
    q = sa.text("SELECT case_id, basis FROM case_similar WHERE case_id IN :ids").bindparams(
        sa.bindparam("ids", expanding=True)
    )
    return {r[0]: r[1] for r in await conn.execute(q, {"ids": case_ids})}
