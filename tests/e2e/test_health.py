"""A real server answers liveness and readiness on both backends."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.server import Server


def test_healthz_and_readyz(server: Server) -> None:
    assert httpx.get(f"{server.base_url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{server.base_url}/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


def test_unknown_route_is_problem_json(server: Server) -> None:
    response = httpx.get(f"{server.base_url}/nowhere")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:swarmdesk:problem:not-found"


def samples(text: str) -> dict[str, float]:
    """Every sample of a `/metrics` answer (parsed by `prometheus_client`), by
    `name{label="value",...}`."""
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            out[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return out


def metric(text: str, name: str) -> float:
    found = samples(text)
    if name not in found:
        raise AssertionError(f"no {name} in /metrics")
    return found[name]


def test_metrics_count_commands_batches_and_the_projector(server: Server) -> None:
    before = httpx.get(f"{server.base_url}/metrics")
    assert before.status_code == 200
    assert before.headers["content-type"].startswith("text/plain; version=")
    body = {"customer": "Acme", "subject": "Metrics"}
    opened = httpx.post(f"{server.base_url}/api/cases", json=body, headers=server.headers("m"))
    assert opened.status_code == 201
    bad = httpx.post(f"{server.base_url}/api/cases", json={}, headers=server.headers("m"))
    assert bad.status_code == 422
    after = httpx.get(f"{server.base_url}/metrics").text
    for name, grew in [
        ("swarmdesk_commands_short_path_total", 1),
        ("swarmdesk_commands_full_path_total", 1),
        ("swarmdesk_append_requests_total", 1),
    ]:
        assert metric(after, name) == metric(before.text, name) + grew, name
    assert metric(after, "swarmdesk_append_batches_total") >= 1
    assert metric(after, "swarmdesk_projector_leading") == 1
    assert "# TYPE swarmdesk_push_clients gauge" in after
    command = 'command="open_case"'
    ok = f'swarmdesk_command_duration_seconds_count{{{command},outcome="ok"}}'
    assert metric(after, ok) == samples(before.text).get(ok, 0) + 1
    assert metric(after, "swarmdesk_append_batch_size_count") >= 1
    assert metric(after, "swarmdesk_projector_lag") >= 0
    assert metric(after, "swarmdesk_stream_tails") == 0
    assert metric(after, "process_resident_memory_bytes") > 0
    for tweak in ("corked_http", "lean_sockets", "inline_send", "gc_policy"):  # serve: all on
        assert metric(after, f'swarmdesk_server_tweak_active{{tweak="{tweak}"}}') == 1, tweak
