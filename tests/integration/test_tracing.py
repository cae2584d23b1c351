"""Traces of one command through a real server (in-memory exporter): the edge's span
continues the caller's `traceparent`; the decision and the append are its children;
the projector batch and the push delivery link to the append; the event's CloudEvent
carries the append's trace context. Off by default."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import orjson
import pytest
import websockets
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, Sampler, TraceIdRatioBased
from opentelemetry.trace import SpanKind
from pydantic import SecretStr

from app.asgi import build_asgi
from app.auth.tokens import TokenIssuer
from app.settings import ProjectorSettings, Settings
from app.store.migrate import upgrade_async
from app.telemetry.tracing import Tracing
from domain.actors import Role
from tests.e2e.server import uvicorn_in_process

SECRET = "tracing-secret-key-that-is-long-enough"


@contextlib.asynccontextmanager
async def _serving(
    tmp_path: Path, sampler: Sampler | None = None
) -> AsyncIterator[tuple[InMemorySpanExporter, str]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'events.db'}"
    await upgrade_async(url)
    settings = Settings(
        database_url=url,
        data_dir=tmp_path,
        secret_key=SecretStr(SECRET),
        projector=ProjectorSettings(enabled=True),
    )
    exporter = InMemorySpanExporter()
    tracing = Tracing(processor=SimpleSpanProcessor(exporter), sampler=sampler)
    edge = build_asgi(settings, tracing=tracing)
    async with uvicorn_in_process(edge, lifespan="on") as (_, port):
        yield exporter, f"127.0.0.1:{port}"


@pytest.fixture
async def traced(tmp_path: Path) -> AsyncIterator[tuple[InMemorySpanExporter, str]]:
    async with _serving(tmp_path) as served:
        yield served


def _one(spans: list[ReadableSpan], name: str) -> ReadableSpan:
    found = [s for s in spans if s.name == name]
    assert len(found) == 1, (name, [s.name for s in spans])
    return found[0]


async def test_one_commands_trace_from_the_edge_to_the_push(
    traced: tuple[InMemorySpanExporter, str],
) -> None:
    exporter, address = traced
    issuer = TokenIssuer(SECRET)
    owner = {"Authorization": f"Bearer {issuer.issue('ana', Role.AGENT)}"}
    service = {"Authorization": f"Bearer {issuer.issue('feed', Role.SERVICE)}"}
    caller_trace = uuid.uuid4().hex
    async with httpx.AsyncClient(base_url=f"http://{address}") as client:
        opened = await client.post(
            "/api/cases", headers=owner, json={"customer": "A", "subject": "t"}
        )
        case_id = opened.json()["case_id"]
        async with websockets.connect(
            f"ws://{address}/ws/cases/{case_id}", additional_headers=owner
        ) as socket:
            await socket.recv()  # the snapshot
            exporter.clear()
            added = await client.post(
                f"/api/cases/{case_id}/context",
                headers={**owner, "traceparent": f"00-{caller_trace}-{'2' * 16}-01"},
                json={"kind": "symptom", "text": "traced"},
            )
            assert added.status_code == 200
            position = added.json()["position"]
            patch = orjson.loads(await asyncio.wait_for(socket.recv(), 10))
            assert patch["position"] == position

        def pushed() -> bool:
            return any(s.name == "push" for s in exporter.get_finished_spans())

        async with asyncio.timeout(10):
            while not pushed():  # noqa: ASYNC110 - the exporter has no event
                await asyncio.sleep(0.02)
        events = await client.get(f"/api/events?after={position - 1}&limit=1", headers=service)
    spans = list(exporter.get_finished_spans())
    edge = next(
        s for s in spans if s.name == "HTTP POST" and s.context.trace_id == int(caller_trace, 16)
    )
    command = _one(spans, "command add_context")
    append = _one(spans, "append")
    batch = next(s for s in spans if s.name == "projector batch" and s.links)
    push = _one(spans, "push")
    assert edge.kind is SpanKind.SERVER
    assert edge.parent is not None
    assert edge.parent.span_id == int("2" * 16, 16)
    assert edge.attributes is not None
    assert edge.attributes["http.response.status_code"] == 200
    assert command.parent is not None
    assert command.parent.span_id == edge.context.span_id
    assert append.parent is not None
    assert append.parent.span_id == command.context.span_id
    assert {link.context.span_id for link in batch.links} == {append.context.span_id}
    assert [link.context.span_id for link in push.links] == [append.context.span_id]
    assert append.context.trace_id == int(caller_trace, 16)
    cloud_event = events.json()[0]
    trace_id, span_id = cloud_event["traceparent"].split("-")[1:3]
    assert (int(trace_id, 16), int(span_id, 16)) == (
        append.context.trace_id,
        append.context.span_id,
    )


def test_traces_are_off_unless_the_environment_names_an_exporter() -> None:
    assert not Tracing.from_env({}).enabled
    assert not Tracing.from_env({"OTEL_TRACES_EXPORTER": "none"}).enabled
    assert Tracing.from_env({"OTEL_TRACES_EXPORTER": "otlp"}).enabled
    disabled = {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"}
    assert not Tracing.from_env(disabled).enabled
    off = Tracing.from_env({})
    off.start()
    assert off.tracer is None


async def test_the_head_sampler_decides_once_at_the_edge(tmp_path: Path) -> None:
    """A ratio of 0: a request without a sampled parent makes no span at all, not even the
    push or projector spans of its change; a request whose caller sampled it is traced
    whole, its projector batch and push included (roots the ratio alone would drop)."""
    owner = {"Authorization": f"Bearer {TokenIssuer(SECRET).issue('ana', Role.AGENT)}"}
    never = ParentBased(TraceIdRatioBased(0.0))
    async with _serving(tmp_path, never) as (exporter, address):
        async with httpx.AsyncClient(base_url=f"http://{address}", headers=owner) as client:
            opened = await client.post("/api/cases", json={"customer": "A", "subject": "t"})
            case_id = opened.json()["case_id"]
            async with websockets.connect(
                f"ws://{address}/ws/cases/{case_id}", additional_headers=owner
            ) as socket:
                await socket.recv()  # the snapshot
                quiet = await client.post(
                    f"/api/cases/{case_id}/context", json={"kind": "symptom", "text": "a"}
                )
                await asyncio.wait_for(socket.recv(), 10)  # its patch was pushed
                assert quiet.status_code == 200
                assert exporter.get_finished_spans() == ()
                caller_trace = uuid.uuid4().hex
                traced = await client.post(
                    f"/api/cases/{case_id}/context",
                    headers={"traceparent": f"00-{caller_trace}-{'3' * 16}-01"},
                    json={"kind": "symptom", "text": "b"},
                )
                assert traced.status_code == 200
                await asyncio.wait_for(socket.recv(), 10)

        def names() -> set[str]:
            return {s.name for s in exporter.get_finished_spans()}

        async with asyncio.timeout(10):
            while not {"push", "projector batch"} <= names():  # noqa: ASYNC110
                await asyncio.sleep(0.02)
    spans = exporter.get_finished_spans()
    assert sorted(s.name for s in spans) == sorted(
        ["HTTP POST", "command add_context", "append", "projector batch", "push"]
    )
    assert {
        s.context.trace_id for s in spans if s.name != "projector batch" and s.name != "push"
    } == {int(caller_trace, 16)}
