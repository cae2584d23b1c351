"""Real receivers for the notification tests: an HTTP server (aiohttp) whose paths answer
200, fail the first N attempts of each message with 500, or hang; and an SMTP server
(aiosmtpd). Each runs on 127.0.0.1 in a thread of its own and records what it got."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

from aiohttp import web
from aiosmtpd.controller import Controller

from tests.e2e.server import free_port


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """`behaviour[path]`: "ok", "hang", or an int N (500 for the first N attempts of
    each webhook-id, then 200)."""

    behaviour: dict[str, Any] = field(default_factory=dict)
    got: list[Received] = field(default_factory=list)
    port: int = 0
    attempts: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def at(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.got if r.path == path]

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        mode = self.behaviour.get(request.path, "ok")
        if mode == "hang":
            await asyncio.sleep(3600)
        with self.lock:
            self.got.append(Received(request.path, dict(request.headers), body))
            key = f"{request.path}:{request.headers.get('webhook-id')}"
            self.attempts[key] += 1
            count = self.attempts[key]
        if isinstance(mode, int) and count <= mode:
            return web.Response(status=500)
        return web.Response(status=204)


@contextmanager
def http_receiver(behaviour: dict[str, Any]) -> Iterator[Receiver]:
    receiver = Receiver(dict(behaviour))
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    runner: list[web.AppRunner] = []

    async def start() -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", receiver.handle)
        run = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await run.setup()
        site = web.TCPSite(run, "127.0.0.1", 0)
        await site.start()
        receiver.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        runner.append(run)
        ready.set()

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(start(), loop).result(10)
    ready.wait(10)
    try:
        yield receiver
    finally:
        asyncio.run_coroutine_threadsafe(runner[0].cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server() -> Iterator[tuple[int, _Mailbox]]:
    """A real SMTP server (aiosmtpd) on a free port; (port, mailbox)."""
    mailbox = _Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, mailbox
    finally:
        controller.stop()
