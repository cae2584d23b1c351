"""The service's own instruments (`prometheus_client` histograms), one `Metrics` per
process, built by `bootstrap` and handed to the parts that observe.

Only what must be measured when it happens is observed here (latencies, batch sizes);
counters and gauges the parts already keep (`store.batches`, `hub.client_count`, ...)
are read at scrape time by the collector in `app.http.metrics`, so the hot paths pay
nothing for them.

An observation is held as its value and handed to its histogram with the others held
(`Metrics.fold`: when `/metrics` is scraped, a second after the first held one, or past
`HOLD_LIMIT`): each `Histogram.observe` on a request's path (a lock, a loop over the
buckets, cold code) cost up to ~2% of a command's server CPU with three servers sharing
two cores (`bench/http_commands.py --telemetry`), held ones nothing measurable.

Several worker processes (`swarmdesk serve --workers N`): when `PROMETHEUS_MULTIPROC_DIR`
is set before `prometheus_client` is imported (`serve` sets it), each observation is
written to that directory's memory-mapped files and any worker's `/metrics` answers the
histograms summed over every worker (`multiprocess_dir`); there an observation is made
at once, so that any worker's scrape counts every worker's observations.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import shutil
import tempfile
from collections import deque
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Histogram

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

_LATENCY = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048)
#: Held observations are folded at once beyond this many.
HOLD_LIMIT = 4096
#: Seconds a held observation waits at most (unless scraped first).
HOLD_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class SharedMetrics:
    path: str
    created: bool  # made here (remove it at exit), not given by the environment


def share_metrics() -> SharedMetrics:
    """Make this process and the workers it starts report together (`swarmdesk serve
    --workers N`): a fresh `PROMETHEUS_MULTIPROC_DIR` (removed when this process exits)
    unless one is set."""
    path = os.environ.get(MULTIPROC_ENV)
    if path:
        return SharedMetrics(path, created=False)
    path = os.environ[MULTIPROC_ENV] = tempfile.mkdtemp(prefix="swarmdesk-metrics-")
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return SharedMetrics(path, created=True)


def multiprocess_dir() -> str | None:
    """The multiprocess directory when this process reports with its siblings."""
    return os.environ.get(MULTIPROC_ENV) or None


class Metrics:
    """The histograms of one process, on their own registry (never the global one)."""

    def __init__(self, hold: bool | None = None) -> None:
        """`hold`: keep observations until `fold` (default: unless several workers
        report together, see the module's docstring)."""
        self.hold = multiprocess_dir() is None if hold is None else hold
        # (histogram, value); a deque: appended and popped atomically from any thread
        self._held: deque[tuple[Histogram, float]] = deque()
        self._armed: asyncio.AbstractEventLoop | None = None  # the loop a fold is due on
        self.registry = CollectorRegistry(auto_describe=True)
        reg = self.registry
        self.command_seconds = Histogram(
            "swarmdesk_command_duration_seconds",
            "command latency in the service (decision and append), by command and outcome",
            ["command", "outcome"],
            buckets=_LATENCY,
            registry=reg,
        )
        self.append_batch_size = Histogram(
            "swarmdesk_append_batch_size",
            "append requests per committed group commit",
            buckets=_SIZES,
            registry=reg,
        )
        self.append_batch_seconds = Histogram(
            "swarmdesk_append_batch_duration_seconds",
            "one group commit: lock, checks, inserts, commit",
            buckets=_LATENCY,
            registry=reg,
        )
        self.projector_batch_seconds = Histogram(
            "swarmdesk_projector_batch_duration_seconds",
            "one projector batch: fold, write, commit",
            buckets=_LATENCY,
            registry=reg,
        )
        self.projector_batch_size = Histogram(
            "swarmdesk_projector_batch_size",
            "events per committed projector batch",
            buckets=_SIZES,
            registry=reg,
        )
        self.push_ack_seconds = Histogram(
            "swarmdesk_push_ack_to_send_seconds",
            "from a command's append acknowledged to its change handed to push sockets "
            "(changes appended by this process)",
            buckets=_LATENCY,
            registry=reg,
        )
        self._commands: dict[tuple[str, str], Histogram] = {}

    def observe_command(self, command: str, outcome: str, seconds: float) -> None:
        """One command's latency (`outcome` "ok" or the error's class name)."""
        child = self._commands.get((command, outcome))
        if child is None:
            child = self._commands[(command, outcome)] = self.command_seconds.labels(
                command, outcome
            )
        self._observe(child, seconds)

    def observe_append(self, requests: int, seconds: float) -> None:
        self._observe(self.append_batch_size, requests)
        self._observe(self.append_batch_seconds, seconds)

    def observe_push_ack(self, seconds: float) -> None:
        self._observe(self.push_ack_seconds, seconds)

    def observe_projection(self, events: int, seconds: float) -> None:
        self._observe(self.projector_batch_size, events)
        self._observe(self.projector_batch_seconds, seconds)

    def _observe(self, histogram: Histogram, value: float) -> None:
        if not self.hold:
            histogram.observe(value)
            return
        held = self._held
        held.append((histogram, value))
        if len(held) >= HOLD_LIMIT:
            self.fold()
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop here (a thread, a script): at once
            self.fold()
            return
        if self._armed is not loop:  # no fold scheduled on this loop: within HOLD_SECONDS
            self._armed = loop
            loop.call_later(HOLD_SECONDS, self.fold)

    def fold(self) -> None:
        """Hand every held observation to its histogram (before reading them)."""
        self._armed = None
        held = self._held
        while held:
            try:
                histogram, value = held.popleft()
            except IndexError:  # another thread folded the last one
                return
            histogram.observe(value)
