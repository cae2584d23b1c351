"""The machinery of `bench/growth.py` (a helper, not a benchmark): a private PostgreSQL
cluster (initdb on a free port, its defaults, autovacuum on), a `swarmdesk serve` of
this tree or another checkout on a schema of it, a process's resident memory."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench._http_runs import command, free_port

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-growth-secret-key-0123456789abcdef"


# -- a private cluster --------------------------------------------------------------
@contextlib.contextmanager
def private_cluster() -> Iterator[str]:
    """A throwaway PostgreSQL cluster on a free port; yields its SQLAlchemy URL. As root,
    the server runs as the `postgres` user (PostgreSQL refuses to run as root)."""
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb is None or pg_ctl is None:
        raise SystemExit("initdb and pg_ctl are needed (the PostgreSQL server package)")
    base = Path(tempfile.mkdtemp(prefix="swarmdesk-growth-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        as_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(base, "postgres")
    data, port = base / "data", free_port()

    def run(*argv: str, check: bool = True) -> None:
        quiet = subprocess.DEVNULL
        subprocess.run([*as_user, *argv], check=check, stdout=quiet, stderr=quiet)

    run(initdb, "-D", str(data), "-U", "postgres", "--auth=trust")
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c max_connections=200"
    run(pg_ctl, "-D", str(data), "-o", options, "-l", str(base / "log"), "-w", "start")
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres"
    finally:
        run(pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop", check=False)
        shutil.rmtree(base, ignore_errors=True)


def dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


# -- a server of one tree -----------------------------------------------------------
@dataclass
class Served:
    process: subprocess.Popen[bytes]
    port: int
    schema: str

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextlib.contextmanager
def serve(url: str, schema: str, root: Path | None) -> Iterator[Served]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWARMDESK_")}
    env.update(
        SWARMDESK_DATABASE_URL=url,
        SWARMDESK_DATABASE_SCHEMA=schema,
        SWARMDESK_SECRET_KEY=SECRET,
        SWARMDESK_DATA_DIR=tempfile.mkdtemp(prefix="swarmdesk-growth-"),
        SWARMDESK_LOG_LEVEL="warning",
        SWARMDESK_PROJECTOR="true",
        SWARMDESK_EDGE_ADDRESS_RATE="1e9",
        SWARMDESK_EDGE_PRINCIPAL_RATE="1e9",
    )
    argv, extra = command(root, "migrate")
    subprocess.run(
        argv, cwd=root or ROOT, env={**env, **extra}, check=True, stdout=subprocess.DEVNULL
    )
    port = free_port()
    argv, extra = command(root, "serve", "--port", str(port))
    process = subprocess.Popen(argv, cwd=root or ROOT, env={**env, **extra})
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("swarmdesk serve did not become ready")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            time.sleep(0.1)
        yield Served(process, port, schema)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0
