"""Helpers shared by the benchmarks in `bench/` (not a benchmark itself).

- latency statistics (`percentile`, `LatencyStats`);
- plain-text tables (`format_table`);
- fresh databases that clean up after themselves (`fresh_pg_schema`, `fresh_sqlite_url`);
- the common command line (`common_parser`) and event loop choice (`run_async`);
- JSON output (`write_json`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

import asyncpg

from app.store.factory import asyncpg_dsn
from app.store.migrate import upgrade_async

T = TypeVar("T")

#: The PostgreSQL server the benchmarks use (the same variable the tests read).
PG_URL = os.environ.get(
    "SWARMDESK_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


# -- statistics -----------------------------------------------------------------
def percentile(values: Sequence[float], q: float) -> float:
    """The `q`-th percentile (0-100) of `values`, linearly interpolated; NaN if empty."""
    if not values:
        return math.nan
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, not {q}")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = math.ceil(rank)
    if low == high:
        return ordered[low]
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True, slots=True)
class LatencyStats:
    """Summary of latencies given in seconds, reported in milliseconds."""

    count: int
    mean_ms: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> LatencyStats:
        if not seconds:
            return cls(0, math.nan, math.nan, math.nan, math.nan, math.nan)
        ordered = sorted(seconds)
        return cls(
            count=len(ordered),
            mean_ms=sum(ordered) / len(ordered) * 1000,
            p50_ms=percentile(ordered, 50) * 1000,
            p90_ms=percentile(ordered, 90) * 1000,
            p99_ms=percentile(ordered, 99) * 1000,
            max_ms=ordered[-1] * 1000,
        )


def ratio(numerator: float, denominator: float) -> float:
    """`numerator / denominator`, NaN when either is missing or the denominator is 0."""
    if math.isnan(numerator) or math.isnan(denominator) or denominator == 0:
        return math.nan
    return numerator / denominator


# -- output -----------------------------------------------------------------------
def fmt(value: float | int | str | None, digits: int = 1) -> str:
    """A table cell: numbers with thousands separators, '-' for missing values."""
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if isinstance(value, float) and math.isnan(value):
        return "-"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


def format_table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], align: str | None = None
) -> str:
    """A plain-text table; `align` has one `l` or `r` per column (default: `lrr...r`)."""
    if align is None:
        align = "l" + "r" * (len(headers) - 1)
    if len(align) != len(headers) or set(align) - {"l", "r"}:
        raise ValueError(f"align must be one 'l' or 'r' per column, not {align!r}")
    widths = [len(h) for h in headers]
    for row in rows:
        if len(row) != len(headers):
            raise ValueError(f"row has {len(row)} cells, expected {len(headers)}: {row!r}")
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        out = [
            cell.ljust(width) if side == "l" else cell.rjust(width)
            for cell, width, side in zip(cells, widths, align, strict=True)
        ]
        return "  ".join(out).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def environment_info() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }


def write_json(path: str | Path, payload: dict[str, Any]) -> None:
    """Write results as JSON (NaN becomes null)."""

    def clean(value: Any) -> Any:
        if isinstance(value, float) and math.isnan(value):
            return None
        if isinstance(value, dict):
            return {str(k): clean(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [clean(v) for v in value]
        return value

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(clean(payload), indent=2, sort_keys=False) + "\n")


def as_dict(obj: Any) -> dict[str, Any]:
    """A dataclass instance as a plain dict (for `write_json`)."""
    result: dict[str, Any] = asdict(obj)
    return result


# -- fresh databases ----------------------------------------------------------------
def unique_name(prefix: str) -> str:
    """A unique lower-case identifier such as `bench_ab12cd34ef56`."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


async def pg_connect(url: str = PG_URL, schema: str | None = None) -> asyncpg.Connection:
    """A plain asyncpg connection to the server `url` names (SQLAlchemy form is fine)."""
    settings = {"application_name": "swarmdesk-bench"}
    if schema:
        settings["search_path"] = schema
    return await asyncpg.connect(asyncpg_dsn(url), server_settings=settings)


@asynccontextmanager
async def fresh_pg_schema(
    prefix: str = "bench", *, url: str = PG_URL, migrate: bool = True
) -> AsyncIterator[str]:
    """A new PostgreSQL schema (migrated to head unless `migrate=False`), dropped on exit."""
    name = unique_name(prefix)
    conn = await pg_connect(url)
    try:
        await conn.execute(f'CREATE SCHEMA "{name}"')
    finally:
        await conn.close()
    try:
        if migrate:
            await upgrade_async(url, schema=name)
        yield name
    finally:
        conn = await pg_connect(url)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        finally:
            await conn.close()


@contextmanager
def temp_sqlite_path(prefix: str = "bench") -> Iterator[Path]:
    """A path for a new SQLite file inside a temporary directory removed on exit."""
    with tempfile.TemporaryDirectory(prefix=f"swarmdesk-{prefix}-") as tmp:
        yield Path(tmp) / "events.db"


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


@asynccontextmanager
async def fresh_sqlite_url(prefix: str = "bench", *, migrate: bool = True) -> AsyncIterator[str]:
    """A `sqlite+aiosqlite` URL of a new file (migrated unless `migrate=False`), removed on exit."""
    with temp_sqlite_path(prefix) as path:
        url = sqlite_url(path)
        if migrate:
            await upgrade_async(url)
        yield url


# -- command line and event loop ----------------------------------------------------
def common_parser(description: str) -> argparse.ArgumentParser:
    """A parser with the options every benchmark accepts (`bench/run.py` passes `--quick`)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="a short run (about 20 s)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument(
        "--loop",
        choices=("uvloop", "asyncio"),
        default="uvloop",
        help="event loop (uvloop, as the service runs under uvicorn; default %(default)s)",
    )
    return parser


def parse_levels(text: str) -> list[int]:
    """`"1,8,32"` -> `[1, 8, 32]` (positive integers)."""
    try:
        levels = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of integers: {text}") from exc
    if not levels or any(level < 1 for level in levels):
        raise argparse.ArgumentTypeError(f"levels must be positive integers: {text}")
    return levels


def run_async(main: Callable[[], Awaitable[T]], loop: str = "uvloop") -> T:
    """Run `main()` on uvloop (falling back to asyncio's loop if it is not installed)."""

    async def runner() -> T:
        return await main()

    if loop == "uvloop":
        try:
            import uvloop
        except ImportError:  # pragma: no cover - uvloop ships with uvicorn[standard]
            pass
        else:
            return uvloop.run(runner())
    return asyncio.run(runner())


def loop_name(loop: str) -> str:
    if loop == "uvloop":
        try:
            import uvloop  # noqa: F401
        except ImportError:  # pragma: no cover
            return "asyncio (uvloop missing)"
    return loop
