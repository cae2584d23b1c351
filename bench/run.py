"""Run every benchmark in `bench/`, one subprocess each, and print their output.

Usage: python bench/run.py [--quick] [--only NAME[,NAME...]]

Every `bench/*.py` except this script, `__init__.py` and the helper modules is a
benchmark. `--quick` is passed through. The exit status is non-zero if any failed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
#: Modules in `bench/` that are not benchmarks (`push_trace` is a diagnostic, no target).
NOT_BENCHMARKS = frozenset({"__init__", "run", "common", "helpers", "push_trace"})


def benchmarks(only: Sequence[str] = ()) -> list[Path]:
    """The benchmark scripts, sorted by name (a subset when `only` names some)."""
    found = sorted(
        path
        for path in BENCH_DIR.glob("*.py")
        if path.stem not in NOT_BENCHMARKS and not path.stem.startswith("_")
    )
    if only:
        wanted = {name.removesuffix(".py") for name in only}
        missing = wanted - {path.stem for path in found}
        if missing:
            raise SystemExit(f"no such benchmark: {', '.join(sorted(missing))}")
        found = [path for path in found if path.stem in wanted]
    return found


def run_one(script: Path, quick: bool) -> tuple[int, float]:
    """Run one benchmark with this interpreter, streaming its output; (exit status, seconds)."""
    command = [sys.executable, str(script)]
    if quick:
        command.append("--quick")
    print(f"=== {script.name}: {' '.join(command[1:])}", flush=True)
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=ROOT, check=False)
    return completed.returncode, time.perf_counter() - started


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run every benchmark in bench/.")
    parser.add_argument("--quick", action="store_true", help="pass --quick to every benchmark")
    parser.add_argument(
        "--only", default="", help="comma-separated benchmark names (default: all of them)"
    )
    args = parser.parse_args(argv)
    scripts = benchmarks([name for name in args.only.split(",") if name.strip()])
    if not scripts:
        print("no benchmarks found in bench/", file=sys.stderr)
        return 1
    outcomes: list[tuple[str, int, float]] = []
    for script in scripts:
        status, seconds = run_one(script, args.quick)
        outcomes.append((script.name, status, seconds))
        print(
            f"=== {script.name}: {'ok' if status == 0 else f'FAILED (exit {status})'}", flush=True
        )
        print(flush=True)
    failed = [name for name, status, _ in outcomes if status != 0]
    print("summary:")
    for name, status, seconds in outcomes:
        verdict = "ok" if status == 0 else f"FAILED (exit {status})"
        print(f"  {name:<20} {verdict:<16} {seconds:6.1f} s")
    if failed:
        print(f"{len(failed)} of {len(outcomes)} benchmarks failed: {', '.join(failed)}")
        return 1
    print(f"all {len(outcomes)} benchmarks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
