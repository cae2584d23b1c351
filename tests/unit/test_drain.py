"""`watch_signals`: chained in front of a server's own handler (which still runs), and
nothing installed where there is none to chain to (the stock behaviour stays)."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from types import FrameType

from app.server.drain import Shutdown, watch_signals


async def test_a_signal_begins_draining_then_reaches_the_servers_handler() -> None:
    seen: list[int] = []

    def server_handler(sig: int, frame: FrameType | None) -> None:
        seen.append(sig)

    original = signal.signal(signal.SIGTERM, server_handler)
    try:
        shutdown = Shutdown()
        with watch_signals(shutdown) as chained:
            assert chained
            os.kill(os.getpid(), signal.SIGTERM)
            await asyncio.wait_for(shutdown.wait(), 5)
        assert shutdown.draining
        assert seen == [signal.SIGTERM]
        assert signal.getsignal(signal.SIGTERM) is server_handler  # put back on exit
    finally:
        signal.signal(signal.SIGTERM, original)


async def test_no_handler_to_chain_to_installs_nothing() -> None:
    original = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    previous_int = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with watch_signals(Shutdown()) as chained:
            assert not chained
            assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    finally:
        signal.signal(signal.SIGTERM, original)
        signal.signal(signal.SIGINT, previous_int)


def test_off_the_main_thread_it_installs_nothing() -> None:
    results: list[bool] = []

    async def probe() -> None:
        with watch_signals(Shutdown()) as chained:
            results.append(chained)

    thread = threading.Thread(target=lambda: asyncio.run(probe()))
    thread.start()
    thread.join(10)
    assert results == [False]
