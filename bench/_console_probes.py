"""What `bench/console.py` reads off the processes around a run: CPU seconds per part
(the server, Chromium's renderers, browser and GPU process, from /proc), Chromium's
niceness, and the server's ack-to-send histogram from `/metrics`."""

from __future__ import annotations

import math
import os
from pathlib import Path

import httpx

from tests.e2e.server import Server

ACK_TO_SEND = "swarmdesk_push_ack_to_send_seconds"
TICK = os.sysconf("SC_CLK_TCK")


def _processes() -> dict[int, tuple[int, str]]:
    """Every process on the machine: pid -> (parent pid, command name)."""
    found: dict[int, tuple[int, str]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        found[int(entry)] = (int(stat[stat.rindex(")") + 2 :].split()[1]), name)
    return found


def _descendants(root: int) -> dict[int, str]:
    """The processes under `root` (not itself): pid -> command name."""
    table = _processes()
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in table.items():
        children.setdefault(parent, []).append(pid)
    out: dict[int, str] = {}
    todo = list(children.get(root, []))
    while todo:
        pid = todo.pop()
        out[pid] = table[pid][1]
        todo += children.get(pid, [])
    return out


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def cpu_by_part(server: Server) -> dict[str, float]:
    """CPU seconds used so far by the server process and by Chromium's processes (the
    PostgreSQL backends serving the server are not counted)."""
    assert server.process is not None
    parts = {"server": 0.0, "chromium": 0.0}
    for pid, name in _descendants(os.getpid()).items():
        if pid == server.process.pid:
            parts["server"] += _cpu_seconds(pid)
        elif name.startswith(("chrom", "headless")):
            parts["chromium"] += _cpu_seconds(pid)
    return parts


def even_out_browsers() -> tuple[int, int]:
    """Set every thread of Chromium's processes to this process's niceness (see the module
    docstring); (threads changed, threads left as they were: not permitted)."""
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    changed = refused = 0
    for pid, name in _descendants(os.getpid()).items():
        if not name.startswith(("chrom", "headless")):
            continue
        try:
            threads = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
        except OSError:
            continue
        for tid in threads:
            try:
                if os.getpriority(os.PRIO_PROCESS, tid) != mine:
                    os.setpriority(os.PRIO_PROCESS, tid, mine)
                    changed += 1
            except PermissionError:
                refused += 1
            except OSError:  # the thread ended meanwhile
                continue
    return changed, refused


def ack_to_send_histogram(server: Server) -> dict[float, float]:
    """The server's cumulative `ACK_TO_SEND` buckets (upper bound in s -> count, `inf`
    included) as /metrics shows them now."""
    text = httpx.get(f"{server.base_url}/metrics", timeout=10).text
    buckets: dict[float, float] = {}
    for line in text.splitlines():
        if line.startswith(f"{ACK_TO_SEND}_bucket"):
            bound = line.split('le="', 1)[1].split('"', 1)[0]
            buckets[float(bound)] = float(line.rsplit(" ", 1)[1])
    return buckets


def histogram_quantile(q: float, buckets: dict[float, float]) -> float:
    """Prometheus' `histogram_quantile` (linear within the bucket), in ms; NaN if empty."""
    bounds = sorted(buckets)
    total = buckets[bounds[-1]] if bounds else 0.0
    if total <= 0:
        return math.nan
    rank, below, lower = q * total, 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank:
            if math.isinf(bound):
                return lower * 1000
            inside = count - below
            return (lower + (bound - lower) * ((rank - below) / inside if inside else 1)) * 1000
        below, lower = count, bound
    return lower * 1000
