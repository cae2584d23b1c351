"""The `swarmdesk` command: serve, migrate, token, demo, rebuild, verify."""

from __future__ import annotations

from typing import Annotated

import typer

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
    """Run the HTTP and WebSocket API with uvicorn."""
    import uvicorn

    from app.http_protocol import CorkedHttpToolsProtocol

    settings = Settings()
    if migrate_first:
        migrate()
    settings.signing_key()  # create the embedded secret once, before workers race for it
    uvicorn.run(
        "app.push.asgi:app",  # the API, push sockets past the middleware (bench/push.py)
        host=host or settings.host,
        port=port if port is not None else settings.port,
        workers=workers,
        log_level=settings.log_level,
        # above "info" uvicorn drops access lines anyway, after formatting their fields
        access_log=settings.log_level.lower() in ("trace", "debug", "info"),
        http=CorkedHttpToolsProtocol,  # a response in one write: see app.http_protocol
        ws="websockets-sansio",  # cheapest WebSocket path, see bench/push.py
        ws_per_message_deflate=False,
        proxy_headers=True,
    )


@cli.command()
def token(
    subject: str,
    role: Annotated[str, typer.Option(help="agent, supervisor, service or admin")] = "agent",
    name: Annotated[str, typer.Option(help="display name")] = "",
    ttl: Annotated[int | None, typer.Option(help="seconds until it expires", min=1)] = None,
) -> None:
    """Print a bearer token the running service accepts (same settings)."""
    from app.auth import TokenIssuer
    from domain.actors import Role

    settings = Settings()
    try:
        parsed = Role(role)
    except ValueError as exc:
        raise typer.BadParameter(f"unknown role {role!r}") from exc
    issuer = TokenIssuer(settings.signing_key(), settings.token_ttl_seconds)
    typer.echo(issuer.issue(subject, parsed, name=name, ttl=ttl))


@cli.command()
def demo() -> None:
    """Fill the store with a realistic scenario (agents, swarms, proposals); rerunnable."""
    import asyncio

    from app.composition import bootstrap
    from app.demo import run_demo

    async def run() -> None:
        async with bootstrap(Settings()) as container:
            report = await run_demo(container)
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
    from app.views_cli import rebuild_main

    rebuild_main(workers)


@cli.command()
def project() -> None:
    """Run only the projector, for deployments whose API processes run with
    SWARMDESK_PROJECTOR=false (one leads per database; others wait to take over)."""
    from app.views_cli import project_main

    project_main()


@cli.command()
def verify() -> None:
    """Replay the log in memory and report any difference from the stored views (exit 1)."""
    from app.views_cli import verify_main

    if verify_main():
        raise typer.Exit(1)


def main() -> None:
    cli()
