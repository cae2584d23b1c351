"""A real `swarmdesk` server in a subprocess on a free port, for end-to-end tests."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import uvicorn

from app.auth.tokens import TokenIssuer
from app.store.factory import asyncpg_dsn
from app.store.migrate import upgrade
from domain.actors import Role
from tests.support import PG_URL, drop_schema_sql, fresh_schema, require_postgres

SECRET = "e2e-secret-key-that-is-long-enough"
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A running server; `token()` mints tokens it accepts."""

    backend: str
    database_url: str
    schema: str | None
    port: int
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    issuer: TokenIssuer = field(default_factory=lambda: TokenIssuer(SECRET))
    args: list[str] = field(default_factory=list)  # more `swarmdesk serve` options

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def token(self, subject: str, role: Role | str = Role.AGENT, name: str = "") -> str:
        return self.issuer.issue(subject, role, name=name or subject.title())

    def headers(self, subject: str, role: Role | str = Role.AGENT) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(subject, role)}"}

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path and self.log_path.exists() else ""

    def start(self) -> None:
        assert self.log_path is not None
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [  # the command users run (uvicorn with the corked HTTP protocol)
                    str(Path(sys.executable).parent / "swarmdesk"),
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    *self.args,
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.base_url}/readyz", timeout=1).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"server not ready in 30 s:\n{self.log()}")

    def stop(self, kill: bool = False) -> None:
        if self.process is None:
            return
        if kill:
            self.process.kill()
        else:
            self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self.process = None


def server_env(
    database_url: str, schema: str | None, data_dir: Path, **extra: str
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWARMDESK_")}
    env.update(
        SWARMDESK_DATABASE_URL=database_url,
        SWARMDESK_SECRET_KEY=SECRET,
        SWARMDESK_DATA_DIR=str(data_dir),
        SWARMDESK_LOG_LEVEL="warning",
        PYTHONUNBUFFERED="1",
        # The shared servers serve every test from one address: no rate limits there
        # (tests/e2e/test_edge_limits.py runs a server with them).
        SWARMDESK_EDGE_ADDRESS_RATE="0",
        SWARMDESK_EDGE_PRINCIPAL_RATE="0",
        SWARMDESK_EDGE_SOCKETS_PER_ADDRESS="0",
        SWARMDESK_EDGE_SOCKETS_PER_PRINCIPAL="0",
    )
    if schema:
        env["SWARMDESK_DATABASE_SCHEMA"] = schema
    env.update(extra)
    return env


@contextlib.contextmanager
def running_server(
    backend: str, workdir: Path, *, share: Server | None = None, **extra: str
) -> Iterator[Server]:
    """Migrate a fresh database of `backend` and run a server on it until exit; with
    `share`, run a second server on that server's database instead (left as it is)."""
    schema: str | None = None
    if share is not None:
        server = Server(
            share.backend,
            share.database_url,
            share.schema,
            free_port(),
            server_env(share.database_url, share.schema, workdir, **extra),
        )
        server.log_path = workdir / f"server-{server.port}.log"
        try:
            server.start()
            yield server
        finally:
            server.stop()
        return
    if backend == "postgres":
        require_postgres()
        schema = fresh_schema()
        url = PG_URL
    else:
        url = f"sqlite+aiosqlite:///{workdir / 'swarmdesk.db'}"
    upgrade(url, schema=schema)
    server = Server(backend, url, schema, free_port(), server_env(url, schema, workdir, **extra))
    server.log_path = workdir / f"server-{server.port}.log"
    try:
        server.start()
        yield server
    finally:
        server.stop()
        if schema:
            import asyncio

            async def drop() -> None:
                conn = await asyncpg.connect(asyncpg_dsn(PG_URL))
                try:
                    await conn.execute(drop_schema_sql(schema))
                finally:
                    await conn.close()

            asyncio.run(drop())


@contextlib.asynccontextmanager
async def uvicorn_in_process(app: Any, **options: Any) -> AsyncIterator[tuple[uvicorn.Server, int]]:
    """A uvicorn server for `app` in this event loop on a free port (the ``websockets-sansio``
    WebSocket protocol, no lifespan, `options` on top), until exit; (server, port)."""
    port = free_port()
    settings: dict[str, Any] = {
        "host": "127.0.0.1", "port": port, "ws": "websockets-sansio", "lifespan": "off",
        "ws_per_message_deflate": False, "log_level": "warning",
    }  # fmt: skip
    server = uvicorn.Server(uvicorn.Config(app, **(settings | options)))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event for it
        await asyncio.sleep(0.01)
    try:
        yield server, port
    finally:
        server.should_exit = True
        await task
