"""What the live lists (`projections.lists`) cost the fold: CPU per event and the bytes of
`view_changes` per event, by view (as stored: "listed" is the lists' shared change that
the case's row carries), side by side with a baseline checkout.

The workload is bench/views.py's small swarming case (open, context, a raised hand, an
invitation, a join, an insight, an acknowledgement, a proposal, its acceptance, the
resolution): 10 events, two people, an open request most of its life, so every list
changes with nearly every event (the costly end).

Run: .venv/bin/python -m bench.lists [--cases N] [--rounds R] [--tree DIR]
(`--tree DIR`: a checkout to compare with, e.g. `git worktree add DIR <commit>`; this
file folds there in a subprocess, with that checkout's packages first on the path.)
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

LIST_VIEWS = ("mycases", "cases", "swarms", "listed")


def measure(cases: int, rounds: int) -> dict[str, Any]:
    """Fold `cases` small cases `rounds` times in process: best CPU per event, bytes."""
    from bench.views import small_case
    from domain.actors import Actor, Role
    from projections.envelope import Envelope
    from projections.fold import ViewSet

    owners = [Actor(uuid.uuid4(), Role.AGENT, f"A{i}") for i in range(50)]
    envelopes: list[Envelope] = []
    for i in range(cases):
        for event in small_case(owners[i % 50], owners[(i + 1) % 50]).collect_events():
            envelopes.append(Envelope(len(envelopes) + 1, event))
    best = float("inf")
    views = ViewSet()
    for _ in range(rounds):
        views = ViewSet()
        started = time.process_time()
        for env in envelopes:
            views.fold(env)
        best = min(best, time.process_time() - started)
    from projections import fold

    changes, _ = views.take_changes()
    if hasattr(fold, "stored_changes"):  # the shared list changes ride in case changes
        changes = fold.stored_changes(changes)
    size: collections.Counter[str] = collections.Counter()
    count: collections.Counter[str] = collections.Counter()
    for change in changes:
        stored = change.stored
        if change.view == "case" and stored.startswith('[["L",'):
            shared = len(json.dumps(json.loads(stored)[0], separators=(",", ":")))
            size["listed"] += shared  # (in the case's row, not a row of its own)
            stored = stored[: -shared - 1]
        size[change.view] += len(stored)
        count[change.view] += 1
    n = len(envelopes)
    return {
        "events": n,
        "us_per_event": best * 1e6 / n,
        "bytes": {v: size[v] / n for v in size},
        "changes": {v: count[v] / n for v in count},
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tree", type=Path, help="a baseline checkout to run side by side")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    now = measure(args.cases, args.rounds)
    if args.json:
        print(json.dumps(now))
        return
    before: dict[str, Any] | None = None
    if args.tree is not None:
        # this file, run with the baseline's packages first on the path
        env = {**os.environ, "PYTHONPATH": str(args.tree.resolve())}
        command = [sys.executable, __file__, "--json", "--cases", str(args.cases)]
        run = subprocess.run(
            [*command, "--rounds", str(args.rounds)],
            cwd=args.tree,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        before = json.loads(run.stdout.strip().splitlines()[-1])
    print(
        f"fold of {now['events']:,} events ({args.cases:,} small swarming cases), best of "
        f"{args.rounds}"
    )
    print(f"{'':34}{'now':>10}{'baseline':>10}{'ratio':>8}")
    base_us = before["us_per_event"] if before else None
    ratio = f"{now['us_per_event'] / base_us:.2f}x" if base_us else ""
    print(
        f"{'CPU per event (us)':34}{now['us_per_event']:>10.1f}"
        f"{base_us if base_us is None else round(base_us, 1)!s:>10}{ratio:>8}"
    )
    views = sorted(set(now["bytes"]) | set(before["bytes"] if before else []))
    for view in views:
        b = before["bytes"].get(view, 0.0) if before else None
        line = f"view_changes bytes/event: {view:9}"
        print(f"{line:34}{now['bytes'].get(view, 0.0):>10.0f}{'' if b is None else f'{b:.0f}':>10}")
    total = sum(now["bytes"].values())
    lists = sum(now["bytes"].get(v, 0.0) for v in LIST_VIEWS)
    base_total = sum(before["bytes"].values()) if before else None
    ratio = f"{total / base_total:.2f}x" if base_total else ""
    print(
        f"{'view_changes bytes/event, all':34}{total:>10.0f}"
        f"{'' if base_total is None else f'{base_total:.0f}':>10}{ratio:>8}"
    )
    print(f"the lists' share of the change bytes now: {lists / total:.1%}")


if __name__ == "__main__":
    main()
