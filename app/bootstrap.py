"""The composition root: `bootstrap(settings, *, ...)` builds every collaborator once,
in order, and yields them as one typed, frozen `Services`; leaving it closes them in
reverse order.

Every parameter but `settings` has a production default (None: build it from
settings); tests pass replacements (an in-memory store, a store with fault hooks, their
own token issuer). Nothing else in the service builds a store, engine, pool or settings.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from uuid import UUID

from eventsourcing.persistence import Mapper
from sqlalchemy.ext.asyncio import AsyncEngine

from app.auth.callers import Callers
from app.auth.oidc import OIDCVerifier, Verifiers, discover
from app.auth.oidc_login import OIDCLogin
from app.auth.secret import signing_key
from app.auth.sessions import LoginLinks, SessionStore
from app.auth.tokens import TokenIssuer, Verifier
from app.notify.service import Notifier
from app.realtime.push.service import PushService, start_push
from app.realtime.stream.cloudevents import CloudEventEncoder
from app.realtime.stream.config import StreamService
from app.server.drain import Shutdown
from app.server.tweaks import Tweaks, probe
from app.service.agents import AgentService
from app.service.articles import ArticleService
from app.service.cache import AggregateCache
from app.service.cases import CaseService
from app.service.clock import Clock, SystemClock
from app.service.commands import CommandRunner
from app.service.directory import Directory
from app.service.expiry import InvitationExpiry
from app.service.outcomes import Outcomes
from app.service.repository import Repository
from app.service.retention import Retention
from app.service.sla_engine import SlaEngine
from app.service.sla_policies import SlaPolicyService
from app.service.timekeeper import Timekeeper
from app.settings import Settings, comma_list
from app.store import EventStore, create_store
from app.store.codec import create_mapper
from app.store.postgres import PostgresEventStore
from app.store.replay_codec import replay_decoder
from app.telemetry.hooks import Hooks
from app.telemetry.metrics import Metrics
from app.telemetry.tracing import Tracing
from projections.db import create_views_engine
from projections.knowledge import Knowledge
from projections.knowledge_index import KnowledgeIndex
from projections.kpi_projector import KpiProjector
from projections.projector import Projector
from projections.service import Views
from projections.watchdog import Watchdog


@dataclass(frozen=True, slots=True)
class Services:
    """Everything the edges (HTTP routes, sockets, CLI) call; built only by `bootstrap`."""

    settings: Settings
    store: EventStore
    mapper: Mapper[UUID]
    repository: Repository
    tokens: TokenIssuer
    verifier: Verifier  # bearer tokens: local ones, and the provider's when configured
    callers: Callers  # bearer token or session cookie (with the cross-site check)
    sessions: SessionStore
    login_links: LoginLinks
    oidc_login: OIDCLogin | None  # browser sign-in with the provider, when configured
    engine: AsyncEngine
    cases: CaseService
    agents: AgentService
    commands: CommandRunner
    views: Views
    knowledge: Knowledge  # search, articles, similar cases
    push: PushService
    stream: StreamService
    tweaks: Tweaks
    metrics: Metrics
    shutdown: Shutdown
    tracing: Tracing
    directory: Directory  # agents as matching sees them (suggestions)
    timekeeper: Timekeeper  # the one timer runner: invitation expiry, SLA deadlines
    notifier: Notifier  # webhooks and e-mail (sending when enabled)
    outcomes: Outcomes  # SLA policies, the SLA engine, the KPI projection


@contextlib.asynccontextmanager
async def bootstrap(
    settings: Settings,
    *,
    store: EventStore | None = None,
    engine: AsyncEngine | None = None,
    tokens: TokenIssuer | None = None,
    verifier: Verifier | None = None,
    tweaks: Tweaks | None = None,
    shutdown: Shutdown | None = None,
    tracing: Tracing | None = None,
    clock: Clock | None = None,
) -> AsyncIterator[Services]:
    """Start the store, the read side and push; stop everything in reverse order."""
    async with contextlib.AsyncExitStack() as stack:
        store = await start_store(stack, settings, store)
        if engine is None:
            engine = open_engine(stack, settings)
        if tweaks is None:
            tweaks = probe(serve=False)
        secret = signing_key(settings)
        if tokens is None:
            tokens = TokenIssuer(secret, settings.token_ttl_seconds)
        oidc_login: OIDCLogin | None = None
        if verifier is None:
            verifier, oidc_login = await start_oidc(settings, tokens, secret)
        sessions = SessionStore(engine, settings.sessions)
        callers = Callers(
            verifier,
            sessions,
            settings.sessions.cookie_name,
            frozenset([settings.public_url, *comma_list(settings.edge.cors_origins)]),
        )
        if tracing is None:
            tracing = Tracing.from_env()
        tracing.start()
        stack.callback(tracing.close)
        mapper = create_mapper()
        repository = Repository(
            store, mapper, snapshot_every=settings.commands.snapshot_every, tracing=tracing
        )
        views = await start_views(stack, settings, store, engine)
        knowledge = start_knowledge(stack, views)
        metrics = Metrics()
        observed = metrics if settings.metrics else None  # off: no histogram observed
        hooks = Hooks(observed, tracing)
        if observed is not None:
            store.on_batch = observed.observe_append
        if views.projector is not None:
            views.projector.on_batch = hooks.projected
        push = await start_push(
            stack,
            settings,
            engine=engine,
            store=store,
            views=views,
            authenticate=callers.principal,
            inline=tweaks.inline_send.active,
            lean=tweaks.lean_sockets.active,
            stalled_close=tweaks.stalled_close.active,
        )
        push.hub.on_publish = hooks.pushed
        tuning = settings.commands
        deadline = tuning.conflict_deadline_seconds
        cases = CaseService(repository, AggregateCache(tuning.cache_size), deadline)
        agents = AgentService(repository, deadline)
        if clock is None:
            clock = system_clock(settings)
        timekeeper, sla = start_timers(stack, settings, store, engine, mapper, cases, clock)
        outcomes = start_outcomes(stack, settings, store, engine, cases, sla)
        yield Services(
            settings=settings,
            store=store,
            mapper=mapper,
            repository=repository,
            tokens=tokens,
            verifier=verifier,
            callers=callers,
            sessions=sessions,
            login_links=LoginLinks(engine, secret, settings.sessions.login_link_seconds),
            oidc_login=oidc_login,
            engine=engine,
            cases=cases,
            agents=agents,
            commands=CommandRunner(
                cases,
                agents,
                tuning.deadline_seconds,
                metrics=observed,
                tracing=tracing,
                articles=ArticleService(repository, deadline),
                policies=outcomes.policies,
            ),
            views=views,
            knowledge=knowledge,
            push=push,
            stream=StreamService(
                CloudEventEncoder(
                    mapper,
                    settings.stream.public_url or f"http://{settings.host}:{settings.port}",
                    traceparent=tracing.traceparent if tracing.enabled else None,
                ),
                settings.stream,
            ),
            tweaks=tweaks,
            metrics=metrics,
            shutdown=shutdown or Shutdown(),
            tracing=tracing,
            directory=Directory(engine, views.position, settings.matching),
            timekeeper=timekeeper,
            notifier=start_notifier(stack, settings, store, engine, mapper, views, clock),
            outcomes=outcomes,
        )


def system_clock(settings: Settings) -> SystemClock:
    """The timers' clock: the system's, with the tests' skew added."""
    skew = settings.timers.skew_seconds + settings.outcomes.skew_seconds
    return SystemClock(settings.timers.poll_seconds, skew)


def start_outcomes(
    stack: contextlib.AsyncExitStack,
    settings: Settings,
    store: EventStore,
    engine: AsyncEngine,
    cases: CaseService,
    sla: SlaEngine | None,
) -> Outcomes:
    """SLA policies; where the projector runs, the KPI projection, leading its own lock
    (`stack` stops it), and the SLA engine (`start_timers` runs it)."""
    policies = SlaPolicyService(cases.repository, settings.commands.conflict_deadline_seconds)
    if not (settings.outcomes.enabled and settings.projector.enabled):
        return Outcomes(policies, engine)
    kpis = KpiProjector(engine, store.subscribe, replay_decoder(), schema=settings.database_schema)
    stack.push_async_callback(_stop, asyncio.create_task(kpis.run(), name="swarmdesk-kpis"))
    return Outcomes(policies, engine, sla, kpis)


async def start_oidc(
    settings: Settings, local: TokenIssuer, secret: str
) -> tuple[Verifier, OIDCLogin | None]:
    """The bearer-token verifier: local tokens only, or with the provider's (its
    discovery document and keys fetched now: a provider that does not answer stops the
    start); browser sign-in when a client id is configured too."""
    if not settings.oidc.enabled:
        return local, None
    discovery = await asyncio.to_thread(discover, settings.oidc)
    oidc = OIDCVerifier(settings.oidc, discovery)
    await asyncio.to_thread(oidc.refresh)
    login = OIDCLogin(settings.oidc, discovery, oidc, secret) if settings.oidc.client_id else None
    return Verifiers(local, oidc), login


async def start_store(
    stack: contextlib.AsyncExitStack, settings: Settings, store: EventStore | None = None
) -> EventStore:
    """Start `store` (by default the one settings name); `stack` closes it."""
    if store is None:
        tuning = settings.store
        timeouts = (
            {
                "statement_timeout": tuning.statement_timeout_seconds,
                "acquire_timeout": tuning.acquire_timeout_seconds,
            }
            if settings.is_postgres
            else {}
        )
        store = create_store(
            settings.database_url,
            schema=settings.database_schema,
            max_batch=tuning.max_batch,
            **timeouts,
        )
    await store.start()
    stack.push_async_callback(store.close)
    return store


def open_engine(stack: contextlib.AsyncExitStack, settings: Settings) -> AsyncEngine:
    """SQLAlchemy's async engine for the read models (same database, same schema)."""
    engine = create_views_engine(
        settings.database_url, schema=settings.database_schema, pool_size=settings.store.pool_size
    )
    stack.push_async_callback(engine.dispose)
    return engine


def make_projector(settings: Settings, store: EventStore, engine: AsyncEngine) -> Projector:
    """A projector fed by the store's subscription, decoding with the replay codec (its
    UUID cache kept small: this process lives long, see `app.server.gc`). On PostgreSQL
    it writes batches through asyncpg, on a connection of its own that commits without
    waiting for the WAL flush (views are derived: see `Projector.project`)."""
    tuning = settings.projector
    pg = store if isinstance(store, PostgresEventStore) else None
    return Projector(
        engine,
        store.subscribe,
        replay_decoder(uuid_cache=tuning.uuid_cache),
        schema=settings.database_schema,
        batch_size=tuning.batch_size,
        linger=tuning.linger_seconds,
        linger_backlog=tuning.linger_backlog,
        pool=pg.pool if pg is not None else None,
        connect=pg.connect_derived if pg is not None else None,
    )


async def start_views(
    stack: contextlib.AsyncExitStack, settings: Settings, store: EventStore, engine: AsyncEngine
) -> Views:
    """The read side: the projector when this process runs one, and read-your-writes."""
    projector = make_projector(settings, store, engine) if settings.projector.enabled else None
    pool = store.pool if isinstance(store, PostgresEventStore) else None
    watchdog = None
    if projector is not None:
        projector.start()
        stack.push_async_callback(projector.close)
        retention = Retention(store, engine, settings.retention)
        pruning = asyncio.create_task(retention.run(), name="swarmdesk-retention")
        stack.push_async_callback(_stop, pruning)
        watchdog = Watchdog(projector, store.max_position, stall=settings.projector.stall_seconds)
        watching = asyncio.create_task(watchdog.run(), name="swarmdesk-projector-watchdog")
        stack.push_async_callback(_stop, watching)
    return Views(engine, projector, pool, watchdog)


def start_timers(
    stack: contextlib.AsyncExitStack,
    settings: Settings,
    store: EventStore,
    engine: AsyncEngine,
    mapper: Mapper[UUID],
    cases: CaseService,
    clock: Clock,
) -> tuple[Timekeeper, SlaEngine | None]:
    """The process's one timer runner (`app.service.timekeeper`) and its parts:
    invitation expiry, and where the projector runs with outcomes on, the SLA engine.
    With `SWARMDESK_TIMERS_ENABLED` this process competes to lead them (`stack` stops it),
    unless it cannot run every part: an API process without the projector, outcomes on,
    leaves the timers to `swarmdesk project` (leading them without the SLA engine, it
    would keep the deadlines from firing)."""
    keeper = Timekeeper(engine, clock, schema=settings.database_schema)
    expiry = InvitationExpiry(
        store, keeper.timers, mapper, cases, clock,
        poll_seconds=settings.timers.poll_seconds, wake=keeper.runner.wake,
    )  # fmt: skip
    keeper.add(expiry)
    sla = None
    if settings.outcomes.enabled and settings.projector.enabled:
        sla = SlaEngine(store, keeper.timers, cases, clock, replay_decoder())
        keeper.add(sla)
    if settings.timers.enabled and (sla is not None or not settings.outcomes.enabled):
        task = asyncio.create_task(keeper.run(), name="swarmdesk-timers")
        stack.push_async_callback(_stop, task)
    return keeper, sla


def start_notifier(
    stack: contextlib.AsyncExitStack,
    settings: Settings,
    store: EventStore,
    engine: AsyncEngine,
    mapper: Mapper[UUID],
    views: Views,
    clock: Clock,
) -> Notifier:
    """Outbound notifications: follow the log, send from the leading process."""
    notify = settings.notify
    notifier = Notifier(
        store,
        engine,
        mapper,
        views.position,
        notify,
        public_url=notify.public_url or settings.public_url,
        schema=settings.database_schema,
        clock=clock,
    )
    if notify.enabled:
        task = asyncio.create_task(notifier.run(), name="swarmdesk-notifier")
        stack.push_async_callback(_stop, task)
    return notifier


def start_knowledge(stack: contextlib.AsyncExitStack, views: Views) -> Knowledge:
    """The knowledge read side; with the projector here, its search indexer too (woken
    by the projector's batches)."""
    if views.projector is None:
        return Knowledge(views.engine)
    projector = views.projector
    index = KnowledgeIndex(views.engine, leading=lambda: projector.leading)
    projector.add_listener(index.wake)
    indexing = asyncio.create_task(index.run(), name="swarmdesk-knowledge-index")
    stack.push_async_callback(_stop, indexing)
    return Knowledge(views.engine, index)


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.wait({task})
