"""`bench/http_commands.py --telemetry`: what logs and traces cost a command, side by side.

In each round the same tree's server runs three times, projector off (the command path
alone, where the access log and the edge's span are paid): `quiet` (all of it off: logs
at WARNING, the metrics' histograms unobserved with `SWARMDESK_METRICS=false`, traces
off), `info` (the default: metrics, JSON logs at INFO, the access log included) and
`traced 1%` (the same and OpenTelemetry on, `parentbased_traceidratio` at 0.01, the
console exporter).
Each server writes its output to a file, as a deployment's does to its log collector.
`--tree DIR` runs another checkout's server instead (to compare commits).

`--together` runs the three servers at the same time instead, each on its own schema and
driven by its own load process over the same wall-clock window: whatever else the machine
is doing then (other test suites, a busy PostgreSQL) falls on the three alike, where runs
one after the other each meet another minute's load. Its verdict is the server CPU per
command (commands/s then measure how the scheduler shared the cores, not the cost).

`--paced RATE` (with `--together`) gives each server the same offered load instead,
RATE commands/s paced over its 32 connections (below what the machine can serve): at
full load the three compete for the cores, and a server that gets fewer commands per
turn of its loop (smaller group commits, fewer requests per read) pays more CPU per
command for it, so a cost measured that way is charged about twice (a known busy loop
per request of 10 us and 20 us, ~2% and ~4% of a command, came out 1.045 and 1.087). At
the same offered load each server's CPU per command is its own cost, unmoved by the
others' throughput; the verdict is then that ratio.

The order the three start in (and, one after the other, run in) turns by one each round,
so no configuration always has the first port, the first load process or the first
minute; together, the window is set once the three load processes are up. `--windows N`
measures N windows one after the other on each round's servers (each a side-by-side
sample, for a fraction of a round's start-up: more samples for the same machine time).

Printed: each run's figures, and per round the ratio of `info` and `traced 1%` to `quiet`
in commands/s and in server CPU per command (the steadier of the two on a shared
machine); then, over every window, each ratio's median (the verdict), its range, and the
mean with a 95% confidence interval (Student's t over the windows' ratios): how far the
samples let the figure be trusted. Targets (issue #18): `info` costs at most 5%
commands/s, `traced 1%` at most 10%.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from app.auth.tokens import TokenIssuer
from bench._http_load import LoadResult, run_clients
from bench._http_runs import SECRET, SPAWN_SLACK, Row, cpu_ticks, http_run, serve, table
from bench.common import PG_URL, LatencyStats, fresh_pg_schema, ratio, run_async

CONFIGS: dict[str, dict[str, str]] = {
    "quiet": {
        "SWARMDESK_LOG_LEVEL": "warning",
        "SWARMDESK_METRICS": "false",
        "OTEL_TRACES_EXPORTER": "none",
    },
    "info": {"SWARMDESK_LOG_LEVEL": "info", "OTEL_TRACES_EXPORTER": "none"},
    "traced 1%": {
        "SWARMDESK_LOG_LEVEL": "info",
        "OTEL_TRACES_EXPORTER": "console",
        "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
        "OTEL_TRACES_SAMPLER_ARG": "0.01",
    },
}
TARGETS = {"info": 1.05, "traced 1%": 1.10}


def telemetry_costs(args: argparse.Namespace, seconds: float, idempotency: bool) -> int:
    tree = args.tree.resolve() if args.tree else None
    together = bool(getattr(args, "together", False))
    rate = float(getattr(args, "paced", 0.0) or 0.0) if together else 0.0
    windows = max(1, int(getattr(args, "windows", 1))) if together else 1
    print(f"HTTP commands on PostgreSQL, projector off: telemetry quiet vs info logs vs "
          f"traces at 1%, {'at the same time' if together else 'one after the other'}, "
          f"in {tree or 'this tree'}"
          + (f", each paced at {rate:.0f} commands/s" if rate else ""))  # fmt: skip
    slower: dict[str, list[float]] = {name: [] for name in TARGETS}
    costlier: dict[str, list[float]] = {name: [] for name in TARGETS}
    with tempfile.TemporaryDirectory(prefix="swarmdesk-bench-logs-") as logs:
        for n in range(args.rounds):
            rows: dict[str, Row] = {}
            outputs = {
                name: Path(logs) / f"{name.replace(' ', '-').rstrip('%')}-{n}.log"
                for name in CONFIGS
            }
            order = _turned(list(CONFIGS), n)
            if together:
                samples = simultaneous(
                    args.clients, seconds, args.warmup, idempotency, tree, outputs, order,
                    windows, rate,
                )  # fmt: skip
            else:
                for name in order:
                    rows[name] = http_run(
                        name, False, args.clients, seconds, args.warmup, idempotency,
                        root=tree, extra_env=CONFIGS[name], output=outputs[name],
                    )  # fmt: skip
                samples = [rows]
            for w, rows in enumerate(samples):
                of = f", window {w + 1} of {windows}" if windows > 1 else ""
                print(f"round {n + 1} of {args.rounds}{of} (started in the order "
                      f"{', '.join(order)})")  # fmt: skip
                print(table([rows[name] for name in CONFIGS]))
                quiet = rows["quiet"]
                per_quiet = quiet.server_cpu / quiet.rate * 1e6
                for name in TARGETS:
                    row = rows[name]
                    per = row.server_cpu / row.rate * 1e6
                    slower[name].append(ratio(quiet.rate, row.rate))
                    costlier[name].append(ratio(per, per_quiet))
                    print(f"{name}: quiet / {name} cmd/s {slower[name][-1]:.3f}; server CPU "
                          f"per command {per:.0f} us vs {per_quiet:.0f} us "
                          f"({costlier[name][-1]:.3f})")  # fmt: skip
    for name, limit in TARGETS.items():
        judged = "server CPU per command" if together else "commands/s"
        verdicts = []
        for measure, ratios in (("commands/s", slower[name]), ("CPU per command", costlier[name])):
            median = statistics.median(ratios)
            if (measure == "commands/s") != together:
                verdicts.append("MET" if median <= limit else "NOT MET")
            print(f"{name}, {measure} (quiet = 1): {_spread(ratios)}")
        print(f"target: {name} costs at most {limit - 1:.0%} ({judged}, median of the "
              f"{len(ratios)} ratios): {verdicts[0]}")  # fmt: skip
    return 0


def _ready(barrier: threading.Barrier) -> None:
    """A load process is up (this module and `bench._http_load` imported)."""
    barrier.wait()


def _turned(names: list[str], n: int) -> list[str]:
    """`names` turned by `n` places (round `n`'s starting order)."""
    k = n % len(names)
    return names[k:] + names[:k]


# Student's t, two-sided 95%, by degrees of freedom (more than 30: 2.0).
_T95 = {1: 12.71, 2: 4.30, 3: 3.18, 4: 2.78, 5: 2.57, 6: 2.45, 7: 2.36, 8: 2.31, 9: 2.26,
        10: 2.23, 12: 2.18, 15: 2.13, 20: 2.09, 30: 2.04}  # fmt: skip


def _spread(ratios: list[float]) -> str:
    """The median of `ratios`, their range, and their mean with its 95% interval."""
    listed = ", ".join(f"{r:.3f}" for r in ratios)
    text = f"median {statistics.median(ratios):.3f} (each window: {listed}"
    if len(ratios) < 2:
        return text + ")"
    mean = statistics.fmean(ratios)
    df = len(ratios) - 1
    t = next((v for k, v in sorted(_T95.items()) if k >= df), 2.0)
    half = t * statistics.stdev(ratios) / len(ratios) ** 0.5
    return (
        f"{text}; range {min(ratios):.3f}-{max(ratios):.3f}; mean {mean:.3f}, 95% interval "
        f"{mean - half:.3f}-{mean + half:.3f})"
    )


def simultaneous(
    clients: int,
    seconds: float,
    warmup: float,
    idempotency: bool,
    tree: Path | None,
    outputs: dict[str, Path],
    order: list[str],
    windows: int = 1,
    rate: float = 0.0,
) -> list[dict[str, Row]]:
    """The three configurations' servers at once, one schema and one load process each,
    started in `order`, over `windows` windows one after the other (the same servers, a
    fresh load run each); for each window, each server's figures and CPU over it."""

    async def with_schemas() -> list[dict[str, Row]]:
        async with contextlib.AsyncExitStack() as stack:
            schemas = {
                name: await stack.enter_async_context(fresh_pg_schema("bench_tel", url=PG_URL))
                for name in order
            }
            return await asyncio.to_thread(measure, schemas)

    def measure(schemas: dict[str, str]) -> list[dict[str, Row]]:
        issuer = TokenIssuer(SECRET)
        tokens = [issuer.issue(f"bench-agent-{n}", "agent", ttl=3600) for n in range(clients)]
        measured = []
        with contextlib.ExitStack() as stack:
            servers = {
                name: stack.enter_context(
                    serve(schemas[name], False, False, tree, CONFIGS[name], outputs[name])
                )
                for name in order
            }
            spawn = get_context("spawn")
            with spawn.Manager() as manager, ProcessPoolExecutor(len(CONFIGS), spawn) as pool:
                # Every load process started and its modules imported before the window
                # is set: on a loaded machine a late one left its server half its window
                # idle (fewer commands per batch: more CPU per command, whatever its
                # telemetry); the three meet at a barrier, so each holds its own worker.
                barrier = manager.Barrier(len(CONFIGS), timeout=120)
                for ready in [pool.submit(_ready, barrier) for _ in CONFIGS]:
                    ready.result()
                for _ in range(windows):  # each worker is idle: each takes one load run
                    measured.append(window_of(servers, pool, tokens))
        return measured

    def window_of(
        servers: dict[str, tuple[subprocess.Popen[bytes], int]],
        pool: ProcessPoolExecutor,
        tokens: list[str],
    ) -> dict[str, Row]:
        start = time.time() + SPAWN_SLACK + warmup
        window = (start, start + seconds)
        futures = {
            name: pool.submit(
                run_clients, "127.0.0.1", port, tokens, window, 0.1, idempotency, rate
            )
            for name, (_, port) in servers.items()
        }
        time.sleep(max(0.0, start - time.time()))
        before = {name: cpu_ticks(p.pid) for name, (p, _) in servers.items()}
        time.sleep(max(0.0, window[1] - time.time()))
        after = {name: cpu_ticks(p.pid) for name, (p, _) in servers.items()}
        loads: dict[str, LoadResult] = {n: f.result() for n, f in futures.items()}
        rows = {}
        total = seconds + warmup + SPAWN_SLACK
        for name, load in loads.items():
            stats = LatencyStats.of(load.latencies)
            note = f"{load.errors} errors, first: {load.first_error}" if load.errors else ""
            rows[name] = Row(
                name, clients, stats.count, load.errors, stats.count / seconds,
                stats.p50_ms, stats.p99_ms, (after[name] - before[name]) / seconds,
                load.cpu_seconds / total, note,
            )  # fmt: skip
        return rows

    return run_async(with_schemas)
