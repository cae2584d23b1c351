"""`bench/http_commands.py --telemetry --instructions`: what logs and traces cost a command
in CPU instructions, counted by valgrind (callgrind), so other work on the machine cannot
move the figure (these 2-core machines swing 20-40% in wall-clock runs, and `perf stat`
has no counters here).

For each configuration of `bench/_http_telemetry.py` the server (`swarmdesk serve`, the
projector off, PostgreSQL) runs under callgrind twice, serving N and then 2N commands
(`add_context` with an Idempotency-Key, one client, one after another); the difference
of the two totals over N is the server's instructions per command, start-up and shutdown
cancelled out. PostgreSQL and the client are other processes, not counted.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import tempfile
import uuid
from pathlib import Path

import httpx

from app.auth.tokens import TokenIssuer
from bench._http_runs import SECRET, serve
from bench._http_telemetry import CONFIGS, TARGETS
from bench.common import PG_URL, fresh_pg_schema, run_async

_TOTAL = re.compile(rb"^(?:summary|totals):\s+(\d+)", re.MULTILINE)


def _commands(port: int, count: int) -> None:
    token = TokenIssuer(SECRET).issue("bench-callgrind", "agent", ttl=3600)
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=60) as http:
        opened = http.post("/api/cases", json={"customer": "Acme", "subject": "callgrind"})
        opened.raise_for_status()
        case = opened.json()["case_id"]
        for n in range(count):
            answer = http.post(
                f"/api/cases/{case}/context",
                json={"kind": "symptom", "text": f"symptom {n}"},
                headers={"Idempotency-Key": str(uuid.uuid4())},
            )
            answer.raise_for_status()


def _instructions(env: dict[str, str], count: int, tree: Path | None, work: Path) -> int:
    """The server's total instructions for start-up, `count` commands and shutdown."""
    out = work / f"callgrind-{uuid.uuid4().hex}.out"
    wrap = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]

    async def with_schema() -> None:
        async with fresh_pg_schema("bench_callgrind", url=PG_URL) as schema:
            await asyncio.to_thread(run, schema)

    slow = {  # valgrind runs it ~50x slower: no deadline may fire
        "SWARMDESK_STORE_STATEMENT_TIMEOUT_SECONDS": "600",
        "SWARMDESK_STORE_ACQUIRE_TIMEOUT_SECONDS": "600",
        "SWARMDESK_COMMANDS_DEADLINE_SECONDS": "600",
        "SWARMDESK_PROJECTOR_STALL_SECONDS": "600",
    }

    def run(schema: str) -> None:
        with serve(
            schema, False, root=tree, extra_env={**env, **slow}, output=work / "server.log",
            wrap=wrap, ready_within=600,
        ) as (_, port):  # fmt: skip
            _commands(port, count)

    run_async(with_schema)
    found = _TOTAL.search(out.read_bytes())
    if found is None:
        raise RuntimeError(f"no total in {out}")
    return int(found.group(1))


def telemetry_instructions(args: argparse.Namespace, count: int = 150) -> int:
    tree = args.tree.resolve() if args.tree else None
    print(f"server instructions per command (callgrind; N={count} and 2N commands, "
          f"projector off, PostgreSQL), in {tree or 'this tree'}")  # fmt: skip
    per: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="swarmdesk-callgrind-") as work:
        for name, env in CONFIGS.items():
            once = _instructions(env, count, tree, Path(work))
            twice = _instructions(env, 2 * count, tree, Path(work))
            per[name] = (twice - once) / count
            print(f"{name}: {per[name]:,.0f} instructions per command")
    for name, limit in TARGETS.items():
        cost = per[name] / per["quiet"]
        verdict = "MET" if cost <= limit else "NOT MET"
        print(f"{name} / quiet: {cost:.3f} (target <= {limit:.2f} in CPU per command: "
              f"{verdict})")  # fmt: skip
    return 0
