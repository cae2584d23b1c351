"""`swarmdesk kpis` (export the KPIs of a period) and `swarmdesk sla what-if` (replay
history under a proposed policy, writing nothing)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from app.settings import Settings

sla_cli = typer.Typer(help="SLA policies: what-if replays.", no_args_is_help=True)

DateOption = Annotated[datetime, typer.Option(formats=["%Y-%m-%d"])]


def flatten(entry: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested KPI values as dotted columns (histograms as `...histogram.<from_s>`)."""
    out: dict[str, Any] = {}
    for key, value in entry.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, f"{name}."))
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict) and "from_s" in item:
                    out[f"{name}.{item['from_s']}"] = item.get("count")
        else:
            out[name] = value
    return out


def to_csv(series: list[dict[str, Any]]) -> str:
    rows = [flatten(entry) for entry in series]
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


async def _caught_up_kpis(settings: Settings, wait_seconds: float) -> Any:
    """The engine, once the KPI projection has reached the log's head (this process
    projects if no other does)."""
    from app.store import create_store
    from app.store.replay_codec import replay_decoder
    from projections import tracked
    from projections.db import create_views_engine
    from projections.kpi_projector import NAME, KpiProjector

    store = create_store(settings.database_url, schema=settings.database_schema)
    await store.start()
    engine = create_views_engine(settings.database_url, schema=settings.database_schema)
    try:
        head = await store.max_position()
        projector = KpiProjector(
            engine, store.subscribe, replay_decoder(), schema=settings.database_schema, retry=0.2
        )
        task = asyncio.create_task(projector.run())
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + wait_seconds
            while True:
                async with engine.connect() as conn:
                    if await tracked.read(conn, NAME) >= head:
                        break
                if loop.time() > deadline:
                    typer.echo("warning: the KPI projection is behind the log", err=True)
                    break
                await asyncio.sleep(0.1)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    finally:
        await store.close()
    return engine


def kpis_command(
    from_: Annotated[datetime, typer.Option("--from", formats=["%Y-%m-%d"])],
    to: DateOption,
    by: Annotated[str, typer.Option(help="day or week")] = "week",
    group: Annotated[str | None, typer.Option(help="product_area, priority or owner")] = None,
    output_format: Annotated[str, typer.Option("--format", help="csv or json")] = "json",
    timeout: Annotated[float, typer.Option(help="seconds to wait for the projection")] = 120,
) -> None:
    """Export the KPIs of every day or week from --from to --to (inclusive)."""
    from projections.kpi_queries import GROUPS, Period, kpi_document

    if by not in ("day", "week") or output_format not in ("csv", "json"):
        raise typer.BadParameter("--by is day or week; --format is csv or json")
    if group is not None and group not in GROUPS:
        raise typer.BadParameter(f"--group is one of {', '.join(GROUPS)}")

    async def run() -> dict[str, Any]:
        engine = await _caught_up_kpis(Settings(), timeout)
        try:
            return await kpi_document(engine, Period(from_.date(), to.date(), by, group))
        finally:
            await engine.dispose()

    answer = asyncio.run(run())
    text = json.dumps(answer, indent=2) if output_format == "json" else to_csv(answer["series"])
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


@sla_cli.command("what-if")
def what_if_command(
    policy_file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    from_: Annotated[datetime, typer.Option("--from", formats=["%Y-%m-%d"])],
    to: DateOption,
) -> None:
    """Replay history under POLICY_FILE (a JSON policy document) and report, per target,
    compliance and breaches as recorded and as they would have been. Writes nothing."""
    from app.service.what_if import TOPICS, log_rows, what_if
    from app.store import create_store
    from app.store.replay_codec import replay_decoder
    from domain.errors import InvalidInput

    try:
        document = json.loads(policy_file.read_text())
    except (OSError, ValueError) as exc:
        raise typer.BadParameter(f"{policy_file}: {exc}") from None
    settings = Settings()

    async def run() -> dict[str, Any]:
        store = create_store(settings.database_url, schema=settings.database_schema)
        await store.start()
        try:
            result = await what_if(
                log_rows(store, topics=TOPICS),
                replay_decoder(),
                document,
                from_.date(),
                to.date(),
                datetime.now(UTC),
            )
        finally:
            await store.close()
        return result.report()

    try:
        report = asyncio.run(run())
    except InvalidInput as exc:
        raise typer.BadParameter(f"{policy_file}: {exc}") from None
    typer.echo(json.dumps(report, indent=2))
