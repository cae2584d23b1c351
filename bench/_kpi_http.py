"""`bench/kpis.py --http` (a helper, not a benchmark): a year of KPIs by week through
`GET /api/kpis` of a `swarmdesk serve` on the benchmark's schema, so the figure includes
what the in-process one leaves out (the server's encoding, HTTP, the client's read).
The server runs without its projector (the log is projected already); its first answer
of each query is not counted."""

from __future__ import annotations

import time

import httpx

from app.auth.tokens import TokenIssuer
from bench._http_runs import SECRET, serve
from bench.common import LatencyStats, fmt
from projections.kpi_queries import Period


def http_rows(schema: str, year: Period, rows: list[list[str]], runs: int) -> None:
    token = TokenIssuer(SECRET).issue("bench-kpis", "supervisor", ttl=3600)
    query = {"from": year.start.isoformat(), "to": year.end.isoformat(), "by": "week"}
    headers = {"Authorization": f"Bearer {token}"}
    with (
        serve(schema, projector=False) as (_, port),
        httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers) as client,
    ):
        for label, group in (("by owner", "owner"), ("no split", None)):
            params = {**query, **({"group": group} if group else {})}
            seconds, size = [], 0
            for _ in range(runs + 1):  # the first warms the server's caches, not counted
                started = time.perf_counter()
                response = client.get("/api/kpis", params=params, timeout=60)
                response.raise_for_status()
                size = len(response.content)
                seconds.append(time.perf_counter() - started)
            stats = LatencyStats.of(seconds[1:])
            rows.append(
                [
                    f"HTTP GET /api/kpis year by week, {label}: all families ({size:,} B)",
                    f"p50 {fmt(stats.p50_ms, 1)} ms, p99 {fmt(stats.p99_ms, 1)} ms",
                    "",
                    "<= 100 ms: " + ("met" if stats.p99_ms <= 100 else "MISSED"),
                ]
            )
