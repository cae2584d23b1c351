"""A private PostgreSQL cluster for the chaos suite: initdb into a temporary directory,
started with pg_ctl on a free port, restarted, stopped in immediate mode, its backends
terminated or frozen, removed at the end. Nothing here touches the shared server on 5432.

PostgreSQL refuses to run as root: as root, every pg_ctl/initdb call runs as the
`postgres` user (`runuser -u postgres --`), and the directory is handed to that user."""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from projections.leader import lock_key
from tests.e2e.server import free_port


def postgres_bin() -> Path | None:
    """The newest server binaries in /usr/lib/postgresql/*/bin (Debian's layout), else
    the directory of `pg_ctl` on PATH."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4])
    )
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).resolve().parent if on_path else None


@dataclass
class Cluster:
    """One running private cluster (trust auth, user postgres, database postgres)."""

    bin: Path
    root: Path
    port: int

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 60) -> None:
        as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run(
            [*as_postgres, *args],
            check=True,
            timeout=timeout,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def pg_ctl(self, *args: str) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
            "-c max_connections=200 -c shared_buffers=64MB"
        )
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"),
            "-o", options, "-w", "-t", "60", *args,
        )  # fmt: skip

    def start(self) -> None:
        self.pg_ctl("start")

    def restart(self) -> None:
        """A clean restart (`-m fast`: sessions end, the checkpoint is written)."""
        self.pg_ctl("restart", "-m", "fast")

    def stop_immediately(self) -> None:
        """`-m immediate`: every process quits at once, the next start recovers the WAL."""
        self.pg_ctl("stop", "-m", "immediate")

    def postmaster_pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def log(self) -> str:
        path = self.root / "log"
        return path.read_text(errors="replace") if path.exists() else ""

    async def backends(self, application_name: str) -> list[int]:
        """Backend pids whose application_name starts with `application_name`."""
        conn = await asyncpg.connect(self.dsn, timeout=5)
        try:
            rows = await conn.fetch(
                "SELECT pid FROM pg_stat_activity WHERE application_name LIKE $1"
                " AND pid <> pg_backend_pid()",
                application_name + "%",
            )
        finally:
            await conn.close()
        return [int(r["pid"]) for r in rows]

    async def leader_backends(self, schema: str) -> list[int]:
        """The backend holding the projector's leadership lock for `schema`."""
        key = lock_key(schema) & 0xFFFFFFFFFFFFFFFF
        conn = await asyncpg.connect(self.dsn, timeout=5)
        try:
            rows = await conn.fetch(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory'"
                " AND classid = $1 AND objid = $2 AND objsubid = 1 AND granted",
                key >> 32,
                key & 0xFFFFFFFF,
            )
        finally:
            await conn.close()
        return [int(r["pid"]) for r in rows]

    async def terminate(self, pids: list[int]) -> int:
        """pg_terminate_backend on each pid; how many were ended."""
        conn = await asyncpg.connect(self.dsn, timeout=5)
        try:
            ended = 0
            for pid in pids:
                ended += bool(await conn.fetchval("SELECT pg_terminate_backend($1)", pid))
            return ended
        finally:
            await conn.close()

    @staticmethod
    def freeze(pid: int) -> None:
        os.kill(pid, signal.SIGSTOP)

    @staticmethod
    def thaw(pid: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)

    async def wait_ready(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                conn = await asyncpg.connect(self.dsn, timeout=2)
                await conn.close()
                return
            except (OSError, asyncpg.PostgresError, TimeoutError):
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.05)


@contextlib.contextmanager
def private_cluster() -> Iterator[Cluster]:
    """initdb, start on a free port, yield; stop (immediate) and remove at the end."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        raise FileNotFoundError("no PostgreSQL server binaries (pg_ctl) found")
    root = Path(tempfile.mkdtemp(prefix="swarmdesk-chaos-"))
    root.chmod(0o755)
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(root, user.pw_uid, user.pw_gid)
    cluster = Cluster(bin_dir, root, free_port())
    try:
        cluster._run(
            str(bin_dir / "initdb"), "-D", str(cluster.data), "-A", "trust", "-U", "postgres",
            "-E", "UTF8", "--no-sync",
        )  # fmt: skip
        cluster.start()
        yield cluster
    finally:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            cluster.stop_immediately()
        shutil.rmtree(root, ignore_errors=True)
