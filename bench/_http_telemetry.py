"""`bench/http_commands.py --telemetry`: what logs and traces cost a command, side by side.

In each round the same tree's server runs three times, projector off (the command path
alone, where the access log and the edge's span are paid): `quiet` (logs at WARNING,
traces off: all the optional telemetry off; metrics cannot be turned off and are in all
three), `info` (the default: JSON logs at INFO, the access log included) and `traced 1%`
(INFO logs and OpenTelemetry on, `parentbased_traceidratio` at 0.01, the console exporter).
Each server writes its output to a file, as a deployment's does to its log collector.
`--tree DIR` runs another checkout's server instead (to compare commits).

Printed: each run's figures, and per round the ratio of `info` and `traced 1%` to `quiet`
in commands/s and in server CPU per command (the steadier of the two on a shared
machine). Targets (issue #18): `info` costs at most 5% commands/s, `traced 1%` at most 10%.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from bench._http_runs import Row, http_run, table
from bench.common import ratio

CONFIGS: dict[str, dict[str, str]] = {
    "quiet": {"SWARMDESK_LOG_LEVEL": "warning", "OTEL_TRACES_EXPORTER": "none"},
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
    print("HTTP commands on PostgreSQL, projector off: telemetry quiet vs info logs vs "
          f"traces at 1%, side by side, in {tree or 'this tree'}")  # fmt: skip
    slower: dict[str, list[float]] = {name: [] for name in TARGETS}
    costlier: dict[str, list[float]] = {name: [] for name in TARGETS}
    with tempfile.TemporaryDirectory(prefix="swarmdesk-bench-logs-") as logs:
        for n in range(args.rounds):
            rows: dict[str, Row] = {}
            for name, env in CONFIGS.items():
                output = Path(logs) / f"{name.replace(' ', '-').rstrip('%')}-{n}.log"
                rows[name] = http_run(
                    name, False, args.clients, seconds, args.warmup, idempotency,
                    root=tree, extra_env=env, output=output,
                )  # fmt: skip
            print(f"round {n + 1} of {args.rounds}")
            print(table(list(rows.values())))
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
        rate = statistics.median(slower[name])
        cpu = statistics.median(costlier[name])
        verdict = "MET" if rate <= limit else "NOT MET"
        listed = ", ".join(f"{r:.3f}" for r in slower[name])
        print(f"target: {name} costs at most {limit - 1:.0%} commands/s: {verdict} (median "
              f"slowdown {rate:.3f} over {len(slower[name])} rounds: {listed}; CPU per "
              f"command {cpu:.3f})")  # fmt: skip
    return 0
