"""The server tweaks: each probe passes against the pinned libraries, a probe that finds
a name missing turns its tweak off with the reason, and the inline send driver falls
back to a task per send."""

from __future__ import annotations

import asyncio

from app.server import inline, stalled
from app.server.tweaks import _has, _status, probe


def test_every_tweak_is_active_for_serve_with_the_pinned_libraries() -> None:
    tweaks = probe(serve=True)
    assert [(t.name, t.active) for t in tweaks.all()] == [
        ("corked_http", True),
        ("lean_sockets", True),
        ("inline_send", True),
        ("gc_policy", True),
        ("stalled_close", True),
    ]


def test_stalled_close_does_nothing_on_another_server() -> None:
    async def send(message: object) -> None:
        raise AssertionError("nothing is sent")

    assert not stalled.close_stalled(send, 4008, "resume after=1", 1.0)


def test_corked_http_and_gc_policy_are_for_serve_only() -> None:
    tweaks = probe(serve=False)
    assert not tweaks.corked_http.active
    assert not tweaks.gc_policy.active
    assert tweaks.lean_sockets.active
    assert tweaks.inline_send.active


def test_a_missing_name_turns_the_tweak_off_with_the_reason() -> None:
    module = "uvicorn.protocols.http.httptools_impl"
    assert _has(module, "HttpToolsProtocol", ("connection_made",), ("transport",)) is None
    why = _has(module, "HttpToolsProtocol", ("no_such_method",), ())
    assert why is not None
    assert "no_such_method" in why
    why = _has(module, "HttpToolsProtocol", (), ("no_such_attribute",))
    assert why is not None
    assert "no_such_attribute" in why
    assert "missing" in (_has("no.such.module", "X", (), ()) or "")
    status = _status("corked_http", lambda: "gone", True, "")
    assert (status.active, status.detail) == (False, "gone")

    def broken() -> str | None:
        raise RuntimeError("boom")

    assert not _status("x", broken, True, "").active


async def _sender(log: list[str], pause: asyncio.Future[None] | None) -> None:
    log.append("start")
    if pause is not None:
        await pause
    log.append("end")


async def test_inline_send_completes_without_a_task_switch() -> None:
    log: list[str] = []
    done: list[BaseException | None] = []
    assert inline.start_send(_sender(log, None), done.append) is None
    assert log == ["start", "end"]  # ran to completion right here
    assert done == []


async def test_a_suspended_send_resumes_and_reports_once() -> None:
    for use_inline in (True, False):
        log: list[str] = []
        done: list[BaseException | None] = []
        pause: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        sending = inline.start_send(_sender(log, pause), done.append, inline=use_inline)
        assert sending is not None
        await asyncio.sleep(0)
        assert log == ["start"]
        pause.set_result(None)
        for _ in range(3):
            await asyncio.sleep(0)
        assert log == ["start", "end"]
        assert done == [None]


async def test_a_cancelled_send_never_reports() -> None:
    log: list[str] = []
    done: list[BaseException | None] = []
    pause: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    sending = inline.start_send(_sender(log, pause), done.append)
    assert sending is not None
    sending.cancel()
    pause.set_result(None)
    await asyncio.sleep(0)
    assert log == ["start"]
    assert done == []
