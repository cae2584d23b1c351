"""A swarm writes at once: commands per second when many clients write to few cases.

32 keep-alive clients post insights (each with an Idempotency-Key) over HTTP to one
`swarmdesk serve` process on PostgreSQL with the projector on, writing to
(a) their own cases, (b) 50 shared cases, (c) 4 cases, (d) 1 case; then the same with
two `swarmdesk serve` processes on one PostgreSQL (the clients split between them, as
behind a load balancer; only the first projects). Each row prints commands/s, p50, p99,
the error answers and its ratio to row (a). Rows (a) and (c) run again with `wrk`
(Debian's C load generator, installed here when missing; `bench/swarm.lua` posts the
bodies), so a second, independent generator checks the figures.

Usage: python bench/swarm.py [--quick] [--clients 32] [--seconds 8] [--no-wrk] [--json PATH]
Targets (one process): zero error answers in (a)-(d); (b), (c), (d) at least 0.8x (a)'s
commands/s; p99 of (d) at most 2x (a)'s. Two processes: zero error answers in (c).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `app` and `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from app.auth.tokens import TokenIssuer
from bench._http_load import LoadResult, Writer, run_writers
from bench._http_runs import SECRET, SPAWN_SLACK, cpu_ticks, serve
from bench.common import (
    PG_URL,
    LatencyStats,
    common_parser,
    environment_info,
    fmt,
    format_table,
    fresh_pg_schema,
    ratio,
    run_async,
    write_json,
)

HERE = Path(__file__).resolve().parent
SCENARIOS = {
    "a": ("own cases", 0),
    "b": ("50 shared cases", 50),
    "c": ("4 cases", 4),
    "d": ("1 case", 1),
}
OWN_CASES = 4  # cases each client owns in row (a)


@dataclass
class Row:
    name: str
    scenario: str
    processes: int
    generator: str
    commands: int
    errors: int
    rate: float
    p50_ms: float
    p99_ms: float
    server_cpu: float  # of the first server process, share of one core
    client_cpu: float
    note: str = ""


def _post(http: httpx.Client, path: str, token: str, body: Mapping[str, object] | None) -> str:
    answer = http.post(path, headers={"Authorization": f"Bearer {token}"}, json=body)
    if answer.status_code not in (200, 201):
        raise RuntimeError(f"setup {path}: {answer.status_code} {answer.text[:200]}")
    return str(answer.json()["case_id"])


def prepare(ports: list[int], scenario: str, clients: int) -> list[Writer]:
    """Open the cases of `scenario` and let every writer in (join them): the writers."""
    issuer = TokenIssuer(SECRET)
    tokens = [issuer.issue(f"writer-{n}", "agent", ttl=3600) for n in range(clients)]
    case_body = {"customer": "Acme Corp", "subject": "Checkout fails after the 3-D Secure step"}
    with httpx.Client(base_url=f"http://127.0.0.1:{ports[0]}", timeout=30) as http:
        if scenario == "a":
            return [
                Writer(
                    ports[n % len(ports)],
                    token,
                    tuple(_post(http, "/api/cases", token, case_body) for _ in range(OWN_CASES)),
                )
                for n, token in enumerate(tokens)
            ]
        owner = issuer.issue("swarm-owner", "agent", ttl=3600)
        shared = []
        for _ in range(SCENARIOS[scenario][1]):
            case = _post(http, "/api/cases", owner, case_body)
            _post(http, f"/api/cases/{case}/swarm", owner, {"help_needed": "3DS retry path"})
            shared.append(case)
        for token in tokens:
            for case in shared:
                _post(http, f"/api/cases/{case}/participants", token, None)
    return [Writer(ports[n % len(ports)], token, tuple(shared)) for n, token in enumerate(tokens)]


PROJECTOR = [True]  # --no-projector: the command path alone (a diagnosis, not the target)


@contextlib.contextmanager
def servers(schema: str, processes: int) -> Iterator[list[tuple[subprocess.Popen[bytes], int]]]:
    with contextlib.ExitStack() as stack:
        running = [stack.enter_context(serve(schema, PROJECTOR[0]))]
        for _ in range(processes - 1):
            running.append(stack.enter_context(serve(schema, False)))
        yield running


def measure(scenario: str, processes: int, clients: int, seconds: float, warmup: float) -> Row:
    async def with_schema() -> Row:
        async with fresh_pg_schema("bench_swarm", url=PG_URL) as schema:
            return await asyncio.to_thread(run, schema)

    def run(schema: str) -> Row:
        with servers(schema, processes) as running:
            writers = prepare([port for _, port in running], scenario, clients)
            start = time.time() + SPAWN_SLACK + warmup
            window = (start, start + seconds)
            with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
                future = pool.submit(run_writers, "127.0.0.1", writers, window)
                time.sleep(max(0.0, start - time.time()))
                cpu0 = cpu_ticks(running[0][0].pid)
                time.sleep(max(0.0, window[1] - time.time()))
                cpu1 = cpu_ticks(running[0][0].pid)
                load: LoadResult = future.result()
        stats = LatencyStats.of(load.latencies)
        note = f"first error: {load.first_error}" if load.errors else ""
        total = seconds + warmup + SPAWN_SLACK
        return Row(
            f"({scenario}) {SCENARIOS[scenario][0]}", scenario, processes, "ours",
            stats.count, load.errors, stats.count / seconds, stats.p50_ms, stats.p99_ms,
            (cpu1 - cpu0) / seconds, load.cpu_seconds / total, note,
        )  # fmt: skip

    return run_async(with_schema)


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found is None:  # Debian's package; these machines reach its registry
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True, capture_output=True)
        found = shutil.which("wrk")
    if found is None:
        raise RuntimeError("wrk is not installed and could not be installed")
    return found


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip()).groups()  # type: ignore[union-attr]
    return float(value) * _UNITS[unit]


def _percentile(out: str, share: int) -> float:
    """A line of wrk's latency distribution (anchored: a "+/- Stdev" column such as
    "71.50%" must not be read as the 50% line)."""
    found = re.search(rf"^\s*{share}%\s+(\S+)\s*$", out, re.MULTILINE)
    if found is None:
        raise RuntimeError(f"no {share}% line in wrk's output:\n{out}")
    return _ms(found.group(1))


def measure_wrk(scenario: str, clients: int, seconds: float) -> Row:
    wrk = ensure_wrk()

    async def with_schema() -> Row:
        async with fresh_pg_schema("bench_swarm", url=PG_URL) as schema:
            return await asyncio.to_thread(run, schema)

    def run(schema: str) -> Row:
        with servers(schema, 1) as running, tempfile.NamedTemporaryFile("w") as listing:
            ((process, port),) = running
            writers = prepare([port], scenario, clients)
            for writer in writers:  # one line per writer and case, spread round robin
                for case in writer.cases:
                    listing.write(f"{writer.token} {case}\n")
            listing.flush()
            env = {**os.environ, "SWARM_WRITERS": listing.name}
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu0 = cpu_ticks(process.pid)
            out = subprocess.run(
                [wrk, "-t2", f"-c{clients}", f"-d{seconds:g}s", "--latency",
                 "-s", str(HERE / "swarm.lua"), f"http://127.0.0.1:{port}"],
                env=env, capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip
            cpu1 = cpu_ticks(process.pid)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
        requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        socket_errors = re.search(r"Socket errors: (.*)", out)
        p50, p99 = _percentile(out, 50), _percentile(out, 99)
        client_cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        return Row(
            f"({scenario}) {SCENARIOS[scenario][0]}", scenario, 1, "wrk",
            requests, int(errors.group(1)) if errors else 0, requests / seconds, p50, p99,
            (cpu1 - cpu0) / seconds, client_cpu / seconds,
            socket_errors.group(1) if socket_errors else "",
        )  # fmt: skip

    return run_async(with_schema)


def table(rows: Sequence[Row], base: dict[tuple[int, str], float]) -> str:
    return format_table(
        ["row", "processes", "generator", "commands", "errors", "cmd/s", "vs (a)", "p50 ms",
         "p99 ms", "server CPU", "client CPU"],
        [
            [r.name, str(r.processes), r.generator, fmt(r.commands), fmt(r.errors), fmt(r.rate),
             f"{ratio(r.rate, base[(r.processes, r.generator)]):.2f}", fmt(r.p50_ms, 2),
             fmt(r.p99_ms, 2), f"{r.server_cpu:.0%}", f"{r.client_cpu:.0%}"]
            for r in rows
        ],
    )  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    parser = common_parser(__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--no-wrk", action="store_true")
    parser.add_argument("--no-projector", action="store_true", help="the command path alone")
    parser.add_argument("--only", default="abcd", help="rows to run, e.g. 'ad'")
    parser.add_argument("--processes", default="12", help="'1', '2' or '12'")
    args = parser.parse_args(argv)
    PROJECTOR[0] = not args.no_projector
    seconds = args.seconds or (4.0 if args.quick else 8.0)
    print(f"Insights over HTTP on PostgreSQL, {args.clients} clients, projector on, "
          f"{os.cpu_count()} CPUs shared by servers, load generator and PostgreSQL")  # fmt: skip
    rows = [
        measure(s, processes, args.clients, seconds, args.warmup)
        for processes in (int(p) for p in args.processes)
        for s in SCENARIOS
        if s in args.only
    ]
    if not args.no_wrk:
        rows += [measure_wrk(s, args.clients, seconds) for s in ("a", "c") if s in args.only]
    base = {(r.processes, r.generator): r.rate for r in rows if r.scenario == "a"}
    print(table(rows, base))
    for row in rows:
        if row.note:
            print(f"note ({row.name}, {row.processes} process(es), {row.generator}): {row.note}")
    one = {r.scenario: r for r in rows if r.processes == 1 and r.generator == "ours"}
    two = {r.scenario: r for r in rows if r.processes == 2}
    if set(one) != set(SCENARIOS) or "c" not in two:
        return 0  # a partial run: no verdict
    checks = [
        ("zero error answers in (a)-(d), one process", all(r.errors == 0 for r in one.values())),
        *(
            (f"({s}) at least 0.8x (a)'s commands/s", one[s].rate >= 0.8 * one["a"].rate)
            for s in "bcd"
        ),
        ("p99 of (d) at most 2x (a)'s", one["d"].p99_ms <= 2 * one["a"].p99_ms),
        ("two processes: zero error answers in (c)", two["c"].errors == 0),
    ]
    for text, met in checks:
        print(f"target: {text}: {'MET' if met else 'NOT MET'}")
    if args.json:
        write_json(args.json, {"environment": environment_info(), "rows": [vars(r) for r in rows]})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
