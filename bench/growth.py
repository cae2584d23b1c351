"""Growth: what a case costs as it grows, this tree beside a baseline checkout (issue #11).

Each tree runs its own `swarmdesk serve` (projector on) against a fresh schema of a
private PostgreSQL cluster that this benchmark starts (initdb on a free port, defaults,
autovacuum on): nobody else writes WAL there, so WAL and sizes are this run's alone.
Commands go over HTTP, patches and snapshots over WebSockets, as a client sees them.

1. WAL per further insight (1 KB text) on a case that already holds 1,000 of them:
   `pg_current_wal_lsn()` around 200 insights posted one at a time, each followed to its
   patch, after a CHECKPOINT and 5 insights more (so no checkpoint's full-page images
   fall into the window by chance) (target <= 6 KB).
2. Ack-to-patch p99 on that case against a fresh case: time from the HTTP
   acknowledgement to the patch on a WebSocket client, 200 insights to each, posted in
   turns (fresh, big, fresh, ...) so that both see the same moments of a shared
   machine (target <= 1.5x). (Until issue #11's last growth work the fresh case was
   measured first, on a just-started server, and the big one minutes later: on a
   loaded machine the ratio was then mostly the difference between two moments.) The
   big case's p99 while the WAL is measured (alone) is printed too.
3. On-disk bytes per 150-byte insight in steady state: the schema's total relation size
   (tables, indexes, TOAST) around 2,000 insights on one case that already has 500, a
   plain VACUUM (what autovacuum does) before each reading (target <= 3 KB).
4. The snapshot a client receives on a 10,000-event case (insights, context, customer
   messages; texts of 1 KB and 300 bytes) (target <= 256 KB).
5. Server memory (RSS) for 50 sockets that never read, on that case, while 300 insights
   are posted to it, above the idle server (target <= 50 MB); how many were closed
   (`swarmdesk_push_fell_behind_total`).

    .venv/bin/python -m bench.growth --baseline /tmp/base-growth [--quick]

`--baseline DIR`: a checkout of the code to compare (e.g. `git worktree add
/tmp/base-growth 8f7fbf8`), migrated with its own migrations and served by the same
Python environment (`bench._http_runs.command`).
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `app` and `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
import httpx
import websockets

from app.auth.tokens import TokenIssuer
from bench._growth_server import SECRET, Served, dsn, private_cluster, rss_bytes, serve
from bench.common import LatencyStats, common_parser, fmt, format_table, ratio

ROOT = Path(__file__).resolve().parent.parent
_SALAD = (
    "pool timeout retry latency checkout payment gateway token cache region deploy queue"
    " worker replica index lock vacuum header cookie session redirect certificate proxy"
    " upstream error budget rollout canary customer invoice refund webhook"
)
WORDS = _SALAD.split(" ")


def text(size: int, rnd: random.Random) -> str:
    """About `size` bytes of word salad (compresses like prose, not like one letter)."""
    out: list[str] = []
    length = 0
    while length < size:
        word = rnd.choice(WORDS)
        out.append(word)
        length += len(word) + 1
    return " ".join(out)[:size]


# -- the measurements ---------------------------------------------------------------
@dataclass
class Figures:
    tree: str
    wal_per_insight: float = 0.0
    p99_big_alone_ms: float = 0.0  # while the WAL is measured (the big case alone)
    fresh: LatencyStats = field(default_factory=lambda: LatencyStats.of([]))
    big: LatencyStats = field(default_factory=lambda: LatencyStats.of([]))
    disk_per_insight: float = 0.0
    snapshot_bytes: int = 0
    rss_idle: int = 0
    rss_peak: int = 0
    fell_behind: float = 0.0
    notes: list[str] = field(default_factory=list)


class Run:
    """One tree's server, its owner token, an HTTP client and the database."""

    def __init__(self, served: Served, url: str, quick: bool) -> None:
        self.served = served
        self.url = url
        self.quick = quick
        self.rnd = random.Random(11)
        token = TokenIssuer(SECRET).issue("growth-owner", "agent", ttl=36_000)
        self.headers = {"Authorization": f"Bearer {token}"}
        self.http = httpx.AsyncClient(base_url=served.base, timeout=60, headers=self.headers)

    async def sql(self, query: str) -> Any:
        conn = await asyncpg.connect(
            dsn(self.url), server_settings={"search_path": self.served.schema}
        )
        try:
            return await conn.fetchval(query)
        finally:
            await conn.close()

    async def open_case(self) -> str:
        r = await self.http.post("/api/cases", json={"customer": "Acme", "subject": "Growth"})
        r.raise_for_status()
        return str(r.json()["case_id"])

    async def post(self, case: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        r = await self.http.post(f"/api/cases/{case}/{path}", json=body)
        if r.status_code != 200:
            raise RuntimeError(f"{path}: {r.status_code} {r.text[:200]}")
        answer: dict[str, Any] = r.json()
        return answer

    async def insight(self, case: str, size: int) -> dict[str, Any]:
        return await self.post(case, "insights", {"kind": "finding", "text": text(size, self.rnd)})

    async def fill(self, case: str, count: int, size: int, mixed: bool = False) -> int:
        """`count` commands on `case` from 8 concurrent clients; the last position."""
        last = 0
        queue = list(range(count))

        async def worker() -> None:
            nonlocal last
            while queue:
                n = queue.pop()
                if mixed and n % 5 == 3:
                    body = {"kind": "symptom", "text": text(300, self.rnd)}
                    answer = await self.post(case, "context", body)
                elif mixed and n % 5 == 4:
                    body = {"direction": "inbound", "text": text(300, self.rnd)}
                    answer = await self.post(case, "customer-messages", body)
                else:
                    answer = await self.insight(case, size)
                last = max(last, int(answer["position"]))

        await asyncio.gather(*(worker() for _ in range(8)))
        await self.caught_up(case, last)
        return last

    async def caught_up(self, case: str, position: int) -> None:
        r = await self.http.get(f"/api/cases/{case}", params={"min_position": position})
        r.raise_for_status()

    def ws(self, case: str, **kw: Any) -> Any:
        url = f"ws://127.0.0.1:{self.served.port}/ws/cases/{case}"
        return websockets.connect(
            url,
            additional_headers=self.headers,
            compression=None,
            max_size=None,
            open_timeout=60,
            **kw,
        )

    async def acked_patch(self, ws: Any, case: str, size: int) -> float:
        """Post one insight; seconds from its acknowledgement to its patch on `ws`."""
        answer = await self.insight(case, size)
        acked = time.perf_counter()
        while True:
            frame = await ws.recv()
            if f'"position":{answer["position"]}' in frame[:200]:
                return time.perf_counter() - acked

    async def ack_to_patch(self, case: str, count: int, size: int) -> tuple[list[float], int]:
        """Post `count` insights one at a time; seconds from each ack to its patch on a
        WebSocket client; and the WAL bytes written meanwhile."""
        latencies: list[float] = []
        async with self.ws(case) as ws:
            await ws.recv()  # the snapshot
            # A checkpoint now, then a few insights: the first change of each page after
            # a checkpoint logs the whole page (8 KB), so one falling inside the window
            # would add a share of the pages this case touches, by chance. Its pages are
            # written once per checkpoint interval whatever the rate of insights: the
            # figure is the WAL of one more insight.
            await self.sql("CHECKPOINT")
            for _ in range(5):
                await self.acked_patch(ws, case, size)
            lsn0 = await self.sql("SELECT pg_current_wal_lsn()::text")
            for _ in range(count):
                latencies.append(await self.acked_patch(ws, case, size))
            wal = await self.sql(f"SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '{lsn0}')::bigint")
        return latencies, int(wal)

    async def ack_to_patch_side_by_side(
        self, fresh: str, big: str, count: int, size: int
    ) -> tuple[list[float], list[float]]:
        """`ack_to_patch` on two cases in turns (fresh, big, fresh, ...): each pair
        under the same load of the machine, so a busy moment weighs on both alike."""
        out: tuple[list[float], list[float]] = ([], [])
        async with self.ws(fresh) as a, self.ws(big) as b:
            await a.recv()
            await b.recv()
            for _ in range(count):
                out[0].append(await self.acked_patch(a, fresh, size))
                out[1].append(await self.acked_patch(b, big, size))
        return out

    async def schema_bytes(self) -> int:
        conn = await asyncpg.connect(dsn(self.url))
        try:
            await conn.execute("VACUUM")
            return int(
                await conn.fetchval(
                    "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c"
                    " JOIN pg_namespace n ON n.oid = c.relnamespace"
                    " WHERE n.nspname = $1 AND c.relkind IN ('r', 'm')",
                    self.served.schema,
                )
            )
        finally:
            await conn.close()

    async def fell_behind(self) -> float:
        r = await self.http.get("/metrics")
        found = re.search(r"^swarmdesk_push_fell_behind(?:_total)? (\S+)", r.text, re.M)
        return float(found.group(1)) if found else 0.0


async def never_reading(port: int, path: str, token: str) -> socket.socket:
    """A WebSocket handshake on a socket with a small receive buffer, never read again."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(sock, ("127.0.0.1", port))
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        f"Sec-WebSocket-Version: 13\r\nAuthorization: Bearer {token}\r\n\r\n"
    )
    await loop.sock_sendall(sock, request.encode())
    return sock


async def measure(served: Served, url: str, name: str, quick: bool) -> Figures:
    run = Run(served, url, quick)
    out = Figures(name)
    further = 40 if quick else 200
    try:
        big = await run.open_case()
        await run.fill(big, 200 if quick else 1000, 1000)
        lat, wal = await run.ack_to_patch(big, further, 1000)
        out.p99_big_alone_ms = LatencyStats.of(lat).p99_ms
        out.wal_per_insight = wal / further
        fresh = await run.open_case()
        lat_fresh, lat_big = await run.ack_to_patch_side_by_side(fresh, big, further, 1000)
        out.fresh, out.big = LatencyStats.of(lat_fresh), LatencyStats.of(lat_big)

        steady = await run.open_case()
        await run.fill(steady, 100 if quick else 500, 150)
        before = await run.schema_bytes()
        added = 400 if quick else 2000
        await run.fill(steady, added, 150)
        out.disk_per_insight = (await run.schema_bytes() - before) / added

        events = 2000 if quick else 10_000
        version = int((await run.http.get(f"/api/cases/{big}")).json()["version"])
        await run.fill(big, events - version, 1000, mixed=True)
        async with run.ws(big) as ws:
            out.snapshot_bytes = len((await ws.recv()).encode())

        await run.http.get(f"/api/cases/{big}")
        await asyncio.sleep(2)
        out.rss_idle = rss_bytes(served.process.pid)
        behind0 = await run.fell_behind()
        token = run.headers["Authorization"].split()[1]
        socks = [await never_reading(served.port, f"/ws/cases/{big}", token) for _ in range(50)]
        peak = out.rss_idle
        for _ in range(60 if quick else 300):
            await run.insight(big, 1000)
            peak = max(peak, rss_bytes(served.process.pid))
        for _ in range(30):  # budgets run out; keepalives may close the rest
            await asyncio.sleep(1)
            peak = max(peak, rss_bytes(served.process.pid))
        out.rss_peak = peak
        out.fell_behind = await run.fell_behind() - behind0
        for sock in socks:
            sock.close()
    finally:
        await run.http.aclose()
    return out


async def one_tree(url: str, name: str, root: Path | None, quick: bool) -> Figures:
    schema = f"growth_{os.getpid()}_{name.split()[0]}"
    conn = await asyncpg.connect(dsn(url))
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await conn.execute(f'CREATE SCHEMA "{schema}"')
    finally:
        await conn.close()
    with serve(url, schema, root) as served:
        return await measure(served, url, name, quick)


def report(rows: list[Figures]) -> str:
    kb, mb = 1024, 1024 * 1024
    lines: list[tuple[str, Callable[[Figures], float], str]] = [
        (
            "WAL per further insight (1 KB) on a 1,000-insight case, KB",
            lambda f: f.wal_per_insight / kb,
            "<= 6",
        ),
        ("ack-to-patch p99, 1,000-insight case alone, ms", lambda f: f.p99_big_alone_ms, ""),
        ("ack-to-patch in turns, fresh case p50, ms", lambda f: f.fresh.p50_ms, ""),
        ("  1,000-insight case p50, ms", lambda f: f.big.p50_ms, ""),
        ("ack-to-patch in turns, fresh case p99, ms", lambda f: f.fresh.p99_ms, ""),
        ("  1,000-insight case p99, ms", lambda f: f.big.p99_ms, ""),
        ("  big / fresh (p99)", lambda f: ratio(f.big.p99_ms, f.fresh.p99_ms), "<= 1.5"),
        (
            "on-disk bytes per 150-byte insight (steady), KB",
            lambda f: f.disk_per_insight / kb,
            "<= 3",
        ),
        ("snapshot of a 10,000-event case, KB", lambda f: f.snapshot_bytes / kb, "<= 256"),
        ("server RSS idle, MB", lambda f: f.rss_idle / mb, ""),
        (
            "RSS with 50 never-reading sockets above idle, MB",
            lambda f: (f.rss_peak - f.rss_idle) / mb,
            "<= 50",
        ),
        ("sockets closed as fallen behind (metric)", lambda f: f.fell_behind, "50"),
    ]
    headers = ["figure", *(f.tree for f in rows), "target"]
    if len(rows) == 2:
        headers.insert(3, "this / baseline")
    body = []
    for label, get, target in lines:
        values = [get(f) for f in rows]
        cells = [label, *(fmt(v, 2) for v in values)]
        if len(rows) == 2:
            cells.append(fmt(ratio(values[0], values[1]), 2))
        body.append([*cells, target])
    return format_table(headers, body)


def main() -> None:
    parser = common_parser(__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, help="a checkout to compare (e.g. 8f7fbf8)")
    args = parser.parse_args()
    rows: list[Figures] = []
    with private_cluster() as url:
        rows.append(asyncio.run(one_tree(url, "this tree", None, args.quick)))
        if args.baseline is not None:
            rows.append(asyncio.run(one_tree(url, "baseline", args.baseline.resolve(), args.quick)))
    print(report(rows))
    if args.quick:
        print("(--quick: smaller cases; the figures are not the issue's)")


if __name__ == "__main__":
    main()
