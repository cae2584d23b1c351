"""The `swarmdesk` command: serve, migrate, token, login-link, demo, rebuild, verify,
kpis, sla what-if."""

from __future__ import annotations

from typing import Annotated

import typer

from app.cli.outcomes import kpis_command, sla_cli
from app.settings import Settings

cli = typer.Typer(help="Swarmdesk: event-sourced swarming support.", no_args_is_help=True)


@cli.command()
def migrate() -> None:
    """Create or upgrade every table (event store, tracking, read models)."""
    from app.store.migrate import upgrade

    settings = Settings()
    upgrade(settings.database_url, schema=settings.database_schema)
    typer.echo(f"migrated {settings.database_url.split('@')[-1]}")


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="bind address")] = None,
    port: Annotated[int | None, typer.Option(help="port")] = None,
    workers: Annotated[int, typer.Option(help="worker processes")] = 1,
    migrate_first: Annotated[bool, typer.Option("--migrate/--no-migrate")] = False,
) -> None:
    """Run the HTTP and WebSocket API with uvicorn (the server tweaks that probe active)."""
    import math
    import signal
    import sys

    import uvicorn
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    from app.auth.secret import signing_key
    from app.server.head_guard import guarded
    from app.server.protocol import CorkedHttpToolsProtocol
    from app.server.tweaks import log_tweaks, probe
    from app.telemetry import logs
    from app.telemetry.metrics import share_metrics

    settings = Settings()
    if migrate_first:
        migrate()
    signing_key(settings)  # create the embedded secret once, before workers race for it
    logs.configure(settings.log_level, settings.log_format)  # workers: `app.server.entry`
    if workers > 1:
        share_metrics()  # before any worker imports prometheus_client
    tweaks = probe(serve=True)
    log_tweaks(tweaks)
    # uvicorn re-raises the signal that stopped it once it has shut down: exit 0 then
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    uvicorn.run(
        "app.server.entry:app",  # the edge around push, the dispatcher and the API
        host=host or settings.host,
        port=port if port is not None else settings.port,
        workers=workers,
        log_level=settings.log_level,
        log_config=None,  # ours (`app.telemetry.logs`), set up above and in each worker
        access_log=False,  # the edge writes the access log (`swarmdesk.access`), no queries
        # header-read timeout, header size and count limits (`SWARMDESK_EDGE_`)
        http=guarded(
            CorkedHttpToolsProtocol if tweaks.corked_http.active else HttpToolsProtocol,
            settings.edge,
        ),
        ws="websockets-sansio",  # cheapest WebSocket path, see bench/push.py
        ws_per_message_deflate=False,
        ws_max_size=settings.push.max_client_frame,  # clients send nothing on our sockets
        proxy_headers=True,
        timeout_graceful_shutdown=math.ceil(settings.shutdown_grace_seconds),
    )


@cli.command()
def token(
    subject: str,
    role: Annotated[str, typer.Option(help="agent, supervisor, service or admin")] = "agent",
    name: Annotated[str, typer.Option(help="display name")] = "",
    ttl: Annotated[int | None, typer.Option(help="seconds until it expires", min=1)] = None,
) -> None:
    """Print a bearer token the running service accepts (same settings)."""
    from app.auth.secret import signing_key
    from app.auth.tokens import TokenIssuer
    from domain.actors import Role

    settings = Settings()
    try:
        parsed = Role(role)
    except ValueError as exc:
        raise typer.BadParameter(f"unknown role {role!r}") from exc
    issuer = TokenIssuer(signing_key(settings), settings.token_ttl_seconds)
    typer.echo(issuer.issue(subject, parsed, name=name, ttl=ttl))


@cli.command("login-link")
def login_link(
    subject: str,
    role: Annotated[str, typer.Option(help="agent, supervisor, service or admin")] = "agent",
    name: Annotated[str, typer.Option(help="display name")] = "",
) -> None:
    """Print a one-time, short-lived URL that signs a browser in (embedded default)."""
    from urllib.parse import urlencode

    from app.auth.secret import signing_key
    from app.auth.sessions import link_token
    from domain.actors import Role

    settings = Settings()
    try:
        parsed = Role(role)
    except ValueError as exc:
        raise typer.BadParameter(f"unknown role {role!r}") from exc
    token = link_token(
        signing_key(settings), settings.sessions.login_link_seconds, subject, parsed, name
    )
    typer.echo(f"{settings.public_url}/auth/link?{urlencode({'token': token})}")


@cli.command()
def demo() -> None:
    """Fill the store with a realistic scenario (agents, swarms, proposals); rerunnable."""
    import asyncio

    from app.bootstrap import bootstrap
    from app.cli.demo import run_demo

    async def run() -> None:
        async with bootstrap(Settings()) as services:
            report = await run_demo(services)
        typer.echo(
            f"demo: {report.commands} commands, {len(report.cases)} cases, "
            f"log at position {report.position}"
        )

    asyncio.run(run())


@cli.command()
def rebuild(
    workers: Annotated[
        int,
        typer.Option(
            help="worker processes folding the log on PostgreSQL "
            "(0: fold in this process; default: one per CPU but one)"
        ),
    ] = -1,
) -> None:
    """Replay the whole log into fresh read-model tables (progress bar), then swap them in."""
    from app.cli.views import rebuild_main

    rebuild_main(workers)


@cli.command()
def project() -> None:
    """Run the projector and what follows the log beside it (search index, KPIs, SLA
    deadlines, invitation expiry), for deployments whose API processes run with
    SWARMDESK_PROJECTOR=false (each part leads per database; others wait to take over)."""
    from app.cli.views import project_main

    project_main()


@cli.command()
def verify() -> None:
    """Replay the log in memory and report any difference from the stored views (exit 1)."""
    from app.cli.views import verify_main

    if verify_main():
        raise typer.Exit(1)


cli.command("kpis")(kpis_command)
cli.add_typer(sla_cli, name="sla")


def main() -> None:
    cli()
