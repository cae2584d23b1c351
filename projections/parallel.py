"""The rebuild's fold split by stream over worker processes and this one.

A case or agent document depends only on its own stream's events, so the streams are
dealt by originator id (`int % (2 * workers + 1)`: a third of them stay here with one
worker, as this process also reads, writes and folds the inboxes), each share receiving
its streams' events in log order. A worker decodes and folds its share
(`ViewSet.fold_stream`) and sends back, page by page, its `view_changes` records and each
event's inbox intents (read from the case as it stood before the event), while this
process folds its own share of the page. Inboxes gather events of many cases, so this
process folds them (`ViewSet.fold_inboxes`) from every share's intents, merged into log
order. Per document the ops, positions and versions are the sequential fold's
(`ViewSet.fold` is `fold_stream` then `fold_inboxes`); only the order in which changes
of different documents are written differs, which the tables do not record.

At the end each worker sends the rows of its documents (`case_views`, `case_summaries`,
`case_members`, `swarm_board`, `case_items`) and this process adds the rows of its own.

Workers are forked where the platform allows (modules already imported), else spawned;
`decoder` must then be importable by name. A worker's failure (the named decode error
included) is raised here as `WorkerFailed` with the worker's traceback; every worker is
ended before `fold_parallel` returns or raises.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import multiprocessing as mp
import signal
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from projections.envelope import Envelope
from projections.fold import ViewSet, stored_changes
from projections.inbox_view import Intent
from projections.pages import Read, pages_ahead
from projections.rows import board_rows, member_rows, summary_row
from projections.writer import doc_rows

# (position, originator id as int, originator version, topic, state): what a worker gets.
Packed = tuple[int, int, int, str, bytes]
Record = tuple[str, str, int, int, str]  # a view_changes row: view, key, position, version, ops
AHEAD = 4  # pages a worker may be sent before its results are taken


class WorkerFailed(RuntimeError):
    """A fold worker raised or died; the message holds its traceback when it has one."""


@dataclass(frozen=True)
class Workers:
    """`count` worker processes; `decoder()` builds, in each, `Packed -> domain event`
    (a module-level function, so that it pickles by name)."""

    count: int
    decoder: Callable[[], Callable[[Packed], Any]]


@dataclass
class Folded:
    position: int  # of the last event folded
    events: int
    views: ViewSet  # this process's documents: its share of the streams, every inbox
    rows: dict[str, list[dict[str, Any]]]  # every table but view_changes


def pack(row: Any) -> Packed:
    return (row.position, row.originator_id.int, row.originator_version, row.topic, row.state)


def records(views: ViewSet) -> list[Record]:
    """The changes since the last call, as `view_changes` rows (then forgotten)."""
    changes, _ = views.take_changes()
    return [c.record for c in stored_changes(changes)]  # tuples pickle faster


def document_rows(views: ViewSet) -> dict[str, list[dict[str, Any]]]:
    """The rows of every table but `view_changes` for the documents `views` holds."""
    docs = views.docs
    cases = [d for (v, _), d in docs.items() if v == "case" and d is not None]
    return {
        "case_views": doc_rows(docs, list(docs)),
        "case_summaries": [summary_row(d) for d in cases],
        "case_members": [r for d in cases for r in member_rows(d)],
        "swarm_board": [r for d in cases for r in board_rows(d)],
        "case_items": views.items.rows(),
    }


def _work(tasks: Connection, results: Connection, decoder: Callable[[], Any]) -> None:
    """A worker: fold each page of `tasks` until None, then send the documents' rows."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent ends its workers
    signal.set_wakeup_fd(-1)  # a forked worker must not wake the parent's event loop
    try:
        decode = decoder()
        views = ViewSet()
        fold = views.fold_stream
        while (page := tasks.recv()) is not None:
            intents: list[tuple[int, list[Intent]]] = []
            for packed in page:
                env = Envelope(packed[0], decode(packed))
                found = fold(env)
                if found:
                    intents.append((env.position, found))
            results.send(("page", len(page), records(views), intents))
        results.send(("rows", document_rows(views)))
    except BaseException:
        results.send(("failed", traceback.format_exc()))
    finally:
        results.close()
        tasks.close()


def _context() -> Any:
    methods = mp.get_all_start_methods()
    return mp.get_context("fork" if "fork" in methods else "spawn")


async def fold_parallel(
    read: Read,
    decode: Callable[[Any], Any],
    until: int,
    workers: Workers,
    sink: Callable[[list[Record]], None],
    progress: Callable[[int], None] | None = None,
) -> Folded:
    """Fold every event with position <= `until` over `workers` and this process
    (`decode`: row -> event; see module doc); each page's `view_changes` records go to
    `sink`, in pages of log order."""
    n = max(1, workers.count)
    ctx = _context()
    pipes = [(ctx.Pipe(duplex=False), ctx.Pipe(duplex=False)) for _ in range(n)]
    procs = [
        ctx.Process(target=_work, args=(task_r, result_w, workers.decoder), daemon=True)
        for (task_r, _), (_, result_w) in pipes
    ]
    for p in procs:
        p.start()
    for (task_r, _), (_, result_w) in pipes:  # the workers' ends
        task_r.close()
        result_w.close()
    senders = [task_w for (_, task_w), _ in pipes]
    receivers = [result_r for _, (result_r, _) in pipes]
    queues: list[asyncio.Queue[list[Packed] | None]] = [asyncio.Queue(AHEAD) for _ in procs]
    own: asyncio.Queue[list[Any] | None] = asyncio.Queue(AHEAD)
    feeding = asyncio.ensure_future(_feed(read, until, queues, own))
    sending = [asyncio.ensure_future(_send(q, c)) for q, c in zip(queues, senders, strict=True)]
    done = False
    try:
        folded = await _gather(receivers, own, decode, feeding, sink, progress)
        done = True
        return folded
    finally:
        if not done:  # first the workers, so that no thread stays blocked on a pipe
            for p in procs:
                p.kill()
        for task in (feeding, *sending):
            task.cancel()
        await asyncio.gather(feeding, *sending, return_exceptions=True)
        for conn in (*senders, *receivers):
            conn.close()
        for p in procs:
            await asyncio.to_thread(p.join, 10)
            if p.is_alive():
                p.kill()
                await asyncio.to_thread(p.join)


async def _feed(
    read: Read,
    until: int,
    queues: list[asyncio.Queue[list[Packed] | None]],
    own: asyncio.Queue[list[Any] | None],
) -> int:
    """Read the log (one page ahead), deal each page's rows by stream to the workers
    and to this process (`own`); then None to each. Returns the last position read."""
    n = len(queues)
    slots = 2 * n + 1  # slot 0 stays here; worker k takes slots 2k + 1 and 2k + 2
    after = 0
    async with contextlib.aclosing(pages_ahead(read, until)) as pages:
        async for rows in pages:
            after = rows[-1].position
            mine: list[Any] = []
            parts: list[list[Packed]] = [[] for _ in range(n)]
            for row in rows:
                slot = row.originator_id.int % slots
                if slot:
                    parts[(slot - 1) >> 1].append(pack(row))
                else:
                    mine.append(row)
            for queue, part in zip(queues, parts, strict=True):
                await queue.put(part)
            await own.put(mine)
    for queue in queues:
        await queue.put(None)
    await own.put(None)
    return after


async def _send(queue: asyncio.Queue[list[Packed] | None], conn: Connection) -> None:
    """Pages from `queue` to one worker; a thread writes (a busy worker blocks it)."""
    while True:
        page = await queue.get()
        await asyncio.to_thread(conn.send, page)
        if page is None:
            return


def _receive(conn: Connection) -> Any:
    try:
        return conn.recv()
    except EOFError:
        raise WorkerFailed("a fold worker ended without an answer") from None


async def _gather(
    receivers: list[Connection],
    own: asyncio.Queue[list[Any] | None],
    decode: Callable[[Any], Any],
    feeding: asyncio.Future[int],
    sink: Callable[[list[Record]], None],
    progress: Callable[[int], None] | None,
) -> Folded:
    """Fold this process's share of each page while the workers fold theirs, take their
    pages in lockstep, fold the inboxes, pass the records on."""
    views = ViewSet()
    fold = views.fold_stream
    events = 0
    while True:
        mine = await own.get()
        intents: list[tuple[int, list[Intent]]] = []
        for row in mine or ():
            env = Envelope(row.position, decode(row))
            found = fold(env)
            if found:
                intents.append((env.position, found))
        answers = await asyncio.gather(*(asyncio.to_thread(_receive, c) for c in receivers))
        for answer in answers:
            if answer[0] == "failed":
                raise WorkerFailed(f"a fold worker failed:\n{answer[1]}")
        if answers[0][0] == "rows":
            if mine is not None or any(a[0] != "rows" for a in answers):
                raise WorkerFailed("fold workers out of step")
            break
        page: list[Record] = []
        for _, _, found_records, _ in answers:
            page += found_records
        for position, found in heapq.merge(intents, *(a[3] for a in answers), key=_first):
            views.fold_inboxes(position, found)
        page += records(views)  # this process's cases and the inboxes
        sink(page)
        count = sum(a[1] for a in answers) + len(mine or ())
        events += count
        if progress is not None:
            progress(count)
    rows = document_rows(views)
    for answer in answers:
        for name, part in answer[1].items():
            rows[name] += part
    return Folded(await feeding, events, views, rows)


def _first(item: tuple[int, list[Intent]]) -> int:
    return item[0]
