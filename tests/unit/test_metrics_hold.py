"""`Metrics` holds observations and hands them to their histograms together (`fold`)."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import CollectorRegistry

from app.telemetry import metrics as telemetry
from app.telemetry.metrics import Metrics


def _value(registry: CollectorRegistry, name: str, labels: dict[str, str] | None = None) -> float:
    value = registry.get_sample_value(name, labels or {})
    return 0.0 if value is None else value


async def test_observations_are_held_until_folded_then_counted_once() -> None:
    m = Metrics(hold=True)
    m.observe_command("open_case", "ok", 0.003)
    m.observe_command("open_case", "ok", 0.2)
    m.observe_append(3, 0.004)
    labels = {"command": "open_case", "outcome": "ok"}
    assert _value(m.registry, "swarmdesk_command_duration_seconds_count", labels) == 0
    m.fold()
    assert _value(m.registry, "swarmdesk_command_duration_seconds_count", labels) == 2
    assert _value(m.registry, "swarmdesk_command_duration_seconds_sum", labels) == 0.203
    bucket = {**labels, "le": "0.005"}
    assert _value(m.registry, "swarmdesk_command_duration_seconds_bucket", bucket) == 1
    assert _value(m.registry, "swarmdesk_append_batch_size_sum") == 3
    m.fold()  # nothing held: nothing counted twice
    assert _value(m.registry, "swarmdesk_command_duration_seconds_count", labels) == 2


async def test_held_observations_are_folded_within_the_hold_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(telemetry, "HOLD_SECONDS", 0.01)
    m = Metrics(hold=True)
    m.observe_push_ack(0.001)
    await asyncio.sleep(0.1)
    assert _value(m.registry, "swarmdesk_push_ack_to_send_seconds_count") == 1


async def test_past_the_limit_they_are_folded_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(telemetry, "HOLD_LIMIT", 10)
    m = Metrics(hold=True)
    for _ in range(5):
        m.observe_projection(2, 0.001)  # two observations each
    assert _value(m.registry, "swarmdesk_projector_batch_size_count") == 5


def test_outside_a_loop_and_unheld_they_are_observed_at_once() -> None:
    held = Metrics(hold=True)
    held.observe_append(1, 0.001)  # no running loop: nothing would fold it later
    assert _value(held.registry, "swarmdesk_append_batch_size_count") == 1
    direct = Metrics(hold=False)

    async def observe() -> None:
        direct.observe_append(1, 0.001)

    asyncio.run(observe())
    assert _value(direct.registry, "swarmdesk_append_batch_size_count") == 1


def test_observations_left_by_a_closed_loop_are_folded_by_the_next_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(telemetry, "HOLD_SECONDS", 0.01)
    m = Metrics(hold=True)

    async def observe(wait: float) -> None:
        m.observe_push_ack(0.001)
        await asyncio.sleep(wait)

    asyncio.run(observe(0))  # the loop closes before its fold was due
    assert _value(m.registry, "swarmdesk_push_ack_to_send_seconds_count") == 0
    asyncio.run(observe(0.1))
    assert _value(m.registry, "swarmdesk_push_ack_to_send_seconds_count") == 2
