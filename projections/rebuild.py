"""`swarmdesk rebuild` and `swarmdesk verify`: replay the whole log in memory.

rebuild: fold every event up to the log's end into fresh documents (no per-event SQL),
bulk-load them into `<table>_rebuild` tables (PostgreSQL: COPY; SQLite: executemany),
then swap them in, in ONE transaction that first takes the projector's tracking row
(so a live projector's batch either finished before or finds the position moved and
restarts from the rebuilt position) and sets it to the rebuilt position; PostgreSQL:
live tables dropped and the rebuilt ones renamed in their place; SQLite: live tables
emptied and refilled from the rebuilt ones, which are then dropped.

verify: fold the log up to the tracked position and compare with the stored views,
read in one snapshot; returns the differences.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from projections.envelope import Envelope
from projections.fold import Change, ViewSet, stored_changes
from projections.pages import Read, pages_ahead
from projections.parallel import Record, Workers, fold_parallel
from projections.rows import board_rows, member_rows, summary_row
from projections.tables import TABLES, table_defs
from projections.writer import change_rows, doc_rows, read_tracking, set_tracking

Decode = Callable[[Any], Any]
Progress = Callable[[int], None]
Sink = Callable[[list[Change]], None]  # takes each page's changes (then not kept)
SUFFIX = "_rebuild"


@dataclass
class Replay:
    views: ViewSet
    changes: list[Change]
    position: int
    events: int


async def replay(
    read: Read,
    decode: Decode,
    until: int,
    progress: Progress | None = None,
    sink: Sink | None = None,
) -> Replay:
    """Fold every event with position <= `until` into memory.

    With a `sink`, each page's changes go to it, in order, instead of `Replay.changes`.

    The cyclic garbage collector is paused meanwhile: the fold allocates millions of
    small acyclic objects that all stay alive, which collections would only walk again."""
    with _collector_paused():
        return await _replay(read, decode, until, progress, sink)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


async def _replay(
    read: Read, decode: Decode, until: int, progress: Progress | None, sink: Sink | None
) -> Replay:
    views = ViewSet()
    changes: list[Change] = []
    after = events = 0
    # The next page is read while this one is folded (the fold is synchronous: a
    # rebuild holds every document in memory).
    async with contextlib.aclosing(pages_ahead(read, until)) as pages:
        async for rows in pages:
            after = rows[-1].position
            fold = views.fold
            for row in rows:
                fold(Envelope(row.position, decode(row)))
            batch, _ = views.take_changes()
            if sink is None:
                changes += batch
            else:
                sink(batch)
            events += len(rows)
            if progress is not None:
                progress(len(rows))
    return Replay(views, changes, after, events)


def table_rows(result: Replay) -> dict[str, list[dict[str, Any]]]:
    """Every row of every read-model table, as the projector would have written it."""
    return dict(_each_table_rows(result))


def _each_table_rows(result: Replay) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """(table, rows) one table at a time (a caller may load each while the next is built)."""
    docs = result.views.docs
    yield "case_views", doc_rows(docs, list(docs))
    yield "view_changes", change_rows(result.changes)
    cases = [d for (v, _), d in docs.items() if v == "case" and d is not None]
    yield "case_summaries", [summary_row(d) for d in cases]
    yield "case_members", [r for d in cases for r in member_rows(d)]
    yield "swarm_board", [r for d in cases for r in board_rows(d)]
    yield "case_items", result.views.items.rows()


async def _bulk_insert(conn: AsyncConnection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        raw: Any = await conn.get_raw_connection()
        columns = [c.name for c in table.columns]
        records = [tuple(r[c] for c in columns) for r in rows]
        await raw.driver_connection.copy_records_to_table(
            table.name, records=records, columns=columns
        )
        return
    for i in range(0, len(rows), 20000):
        await conn.execute(table.insert(), rows[i : i + 20000])


async def _fill(engine: AsyncEngine, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    async with engine.begin() as conn:
        await _bulk_insert(conn, table, rows)


async def rebuild(
    engine: AsyncEngine,
    read: Read,
    decode: Decode,
    until: int,
    progress: Progress | None = None,
    workers: Workers | None = None,
) -> Replay:
    """Replay up to `until` into fresh tables, then swap them in (see module doc).

    PostgreSQL: the fresh tables are created first and each page's `view_changes`
    rows are COPYed (binary) on their own connection while the next pages are folded;
    the other tables are COPYed in parallel once the fold is done. The returned
    `Replay.changes` is then empty (the changes are in the table). With `workers`
    (PostgreSQL only; SQLite folds here), the fold runs in worker processes
    (`projections.parallel`, the same tables) and `Replay.views` holds only the
    documents this process folded (its share of the cases and agents, every inbox).
    """
    with _collector_paused():  # also while the rows are built from the documents
        return await _rebuild(engine, read, decode, until, progress, workers)


async def _rebuild(
    engine: AsyncEngine,
    read: Read,
    decode: Decode,
    until: int,
    progress: Progress | None,
    workers: Workers | None,
) -> Replay:
    fresh = table_defs(sa.MetaData(), SUFFIX)
    if engine.dialect.name == "postgresql":
        result = await _replay_streaming(engine, fresh, read, decode, until, progress, workers)
    else:
        await _create(engine, fresh)
        result = await replay(read, decode, until, progress)
        rows = table_rows(result)
        async with engine.begin() as conn:
            for name, table in fresh.items():
                await _bulk_insert(conn, table, rows[name])
    async with engine.begin() as conn:
        await set_tracking(conn, None, result.position)  # takes the projector's row lock
        if conn.dialect.name == "postgresql":
            await _swap_by_rename(conn, fresh)
        else:
            for name, live in TABLES.items():
                await conn.execute(live.delete())
                await conn.execute(
                    sa.text(f"INSERT INTO {live.name} SELECT * FROM {fresh[name].name}")
                )
                await conn.execute(sa.text(f"DROP TABLE {fresh[name].name}"))
    return result


async def _create(engine: AsyncEngine, fresh: Mapping[str, sa.Table]) -> None:
    """(Re)create the empty rebuild tables."""
    async with engine.begin() as conn:
        for table in fresh.values():
            await conn.execute(sa.text(f"DROP TABLE IF EXISTS {table.name}"))
        await conn.run_sync(next(iter(fresh.values())).metadata.create_all)


async def _copy_changes(
    engine: AsyncEngine,
    created: Awaitable[None],
    table: sa.Table,
    pages: asyncio.Queue[Sequence[Record] | None],
) -> None:
    """Once `created`, COPY each page of `view_changes` records from `pages` (until
    None) into `table`, in one transaction."""
    await created
    columns = ["view", "key", "position", "version", "ops"]  # the records' order
    if [c.name for c in table.columns] != columns:
        raise RuntimeError(f"unexpected columns of {table.name}")
    async with engine.begin() as conn:
        raw: Any = await conn.get_raw_connection()
        while (page := await pages.get()) is not None:
            if page:
                await raw.driver_connection.copy_records_to_table(
                    table.name, records=page, columns=columns
                )


async def _replay_streaming(
    engine: AsyncEngine,
    fresh: Mapping[str, sa.Table],
    read: Read,
    decode: Decode,
    until: int,
    progress: Progress | None,
    workers: Workers | None,
) -> Replay:
    """PostgreSQL: replay with `view_changes` COPYed alongside, then the other tables.

    One connection per table: the server loads (and indexes) them in parallel.
    Nobody reads the rebuilt tables before the swap; a failure leaves them to be
    dropped by the next rebuild. With `workers`, the fold is `projections.parallel`'s."""
    pages: asyncio.Queue[Sequence[Record] | None] = asyncio.Queue()
    # The tables are created while the first pages are read and folded.
    created = asyncio.ensure_future(_create(engine, fresh))
    copier = asyncio.ensure_future(_copy_changes(engine, created, fresh["view_changes"], pages))
    tables: Iterator[tuple[str, list[dict[str, Any]]]]
    try:
        if workers is None:
            result = await replay(read, decode, until, progress, sink=_as_records(pages))
            tables = _each_table_rows(result)
        else:
            folded = await fold_parallel(read, decode, until, workers, pages.put_nowait, progress)
            result = Replay(folded.views, [], folded.position, folded.events)
            tables = iter(folded.rows.items())
    except BaseException:
        copier.cancel()
        created.cancel()
        raise
    pages.put_nowait(None)
    await created
    fills = [copier]
    for name, rows in tables:
        if name != "view_changes":  # already COPYed (result.changes is empty)
            for part in _halves(rows):
                fills.append(asyncio.ensure_future(_fill(engine, fresh[name], part)))
                await asyncio.sleep(0)  # let it start while the next table's rows are built
    await asyncio.gather(*fills)
    return result


#: A table with at least this many rows is loaded in two halves over two connections
#: (two server processes: the case documents' COPY was the long pole after the fold).
HALVES_FROM = 4_000


def _halves(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    if len(rows) < HALVES_FROM:
        return [rows]
    half = len(rows) // 2
    return [rows[:half], rows[half:]]


def _as_records(pages: asyncio.Queue[Sequence[Record] | None]) -> Sink:
    def sink(batch: list[Change]) -> None:
        pages.put_nowait([c.record for c in stored_changes(batch)])

    return sink


async def _swap_by_rename(conn: AsyncConnection, fresh: Mapping[str, sa.Table]) -> None:
    """PostgreSQL, inside the swap transaction: drop each live table and rename the
    rebuilt one (and its primary key and indexes) to the live names: no second copy.
    Readers wait on the tables' locks until the transaction commits, then see the
    rebuilt tables; both have the same definition (`table_defs`)."""
    for name, table in fresh.items():
        await conn.execute(sa.text(f'DROP TABLE "{name}"'))
        await conn.execute(sa.text(f'ALTER TABLE "{table.name}" RENAME TO "{name}"'))
        renames = {f"{table.name}_pkey": f"{name}_pkey"}
        for index in table.indexes:
            old = str(index.name)
            renames[old] = old.replace(table.name, name)
        for old, new in renames.items():
            await conn.execute(sa.text(f'ALTER INDEX "{old}" RENAME TO "{new}"'))


@dataclass(frozen=True)
class Difference:
    table: str
    key: str
    stored: Any
    replayed: Any


async def stored_rows(conn: AsyncConnection) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for name, table in TABLES.items():
        result = await conn.execute(sa.select(table))
        out[name] = [dict(r._mapping) for r in result.fetchall()]
    return out


def _keyed(name: str, rows: list[dict[str, Any]]) -> Mapping[str, Any]:
    pk = [c.name for c in TABLES[name].primary_key.columns]
    out = {}
    for r in rows:
        value = dict(r)
        for text in ("doc", "ops"):
            if text in value:
                value[text] = json.loads(value[text])
        out["/".join(str(r[k]) for k in pk)] = value
    return out


async def verify(
    engine: AsyncEngine, read: Read, decode: Decode, progress: Progress | None = None
) -> tuple[int, list[Difference]]:
    """(tracked position, differences between the stored views and a replay to it)."""
    while True:  # a consistent read: no batch committed while the tables were read
        async with engine.connect() as conn:
            position = await read_tracking(conn)
            stored = await stored_rows(conn)
            again = await read_tracking(conn)
            await conn.rollback()
        if again == position:
            break
    result = await replay(read, decode, position, progress)
    replayed = table_rows(result)
    diffs: list[Difference] = []
    for name in TABLES:
        a, b = _keyed(name, stored[name]), _keyed(name, replayed[name])
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                diffs.append(Difference(name, key, a.get(key), b.get(key)))
    return position, diffs
