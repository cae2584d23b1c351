"""The presence relay's bookkeeping (no I/O): what peers said, for how long, and when the
hub is told (`app.realtime.push.presence_relay`)."""

from __future__ import annotations

import json

import asyncpg

from app.realtime.push.presence_relay import MAX_PEOPLE, PresenceRelay


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Hub:
    def __init__(self) -> None:
        self.refreshed: list[str] = []

    def refresh(self, case_key: str) -> None:
        self.refreshed.append(case_key)


async def _nothing() -> asyncpg.Connection:
    raise AssertionError("no connection in these tests")


def relay() -> tuple[PresenceRelay, Clock, Hub]:
    clock, hub = Clock(), Hub()
    made = PresenceRelay(_nothing, interval=2.0, clock=clock)
    made.hub = hub
    return made, clock, hub


def said(process: str, case: str, *people: tuple[str, str]) -> str:
    return json.dumps({"p": process, "c": case, "h": [list(p) for p in people]})


def test_peers_sets_are_joined_and_a_change_refreshes_the_room() -> None:
    r, _, hub = relay()
    r.on_payload(said("p1", "c", ("a", "Ana")))
    r.on_payload(said("p2", "c", ("b", "Ben"), ("a", "Ana")))
    assert sorted(r.people("c")) == [("a", "Ana"), ("a", "Ana"), ("b", "Ben")]
    r.on_payload(said("p1", "c", ("a", "Ana")))  # the same again (a re-announcement)
    assert hub.refreshed == ["c", "c"]
    r.on_payload(said("p2", "c"))  # p2's room emptied
    assert r.people("c") == [("a", "Ana")]
    assert hub.refreshed == ["c", "c", "c"]


def test_a_silent_process_expires_after_three_intervals_and_bye_is_at_once() -> None:
    r, clock, hub = relay()
    r.on_payload(said("p1", "c", ("a", "Ana")))
    r.on_payload(said("p2", "d", ("b", "Ben")))
    clock.now += 5.9
    r.expire()
    assert r.people("c") == [("a", "Ana")]
    r.on_payload(said("p1", "c", ("a", "Ana")))  # p1 heard again: kept
    clock.now += 0.2
    r.expire()
    assert r.people("d") == []  # p2 not heard for 6.1 s (> 3 x 2 s)
    assert r.people("c") == [("a", "Ana")]
    assert "d" in hub.refreshed
    r.on_payload(json.dumps({"p": "p1", "bye": 1}))
    assert r.people("c") == []
    assert r.remote == {}


def test_own_messages_and_noise_are_ignored_and_an_ask_is_answered() -> None:
    r, _, hub = relay()
    r.on_payload(said(r.process, "c", ("a", "Ana")))
    r.on_payload("not json")
    r.on_payload(json.dumps({"c": "no sender"}))
    assert r.remote == {}
    assert hub.refreshed == []
    r.local_changed("c", [("a", "Ana")])
    r.on_payload(json.dumps({"p": "p9", "ask": 1}))
    assert r._ask


def test_local_sets_are_deduplicated_bounded_and_sent_only_when_changed() -> None:
    r, _, _ = relay()
    r.local_changed("c", [])
    assert not r.needed.is_set()  # nobody in a room here yet: no connection
    r.local_changed("c", [("b", "Ben"), ("a", "Ana"), ("a", "Ana")])
    assert r.needed.is_set()
    assert r.local["c"] == [("a", "Ana"), ("b", "Ben")]
    assert r._dirty == {"c"}
    r._dirty.clear()
    r.local_changed("c", [("a", "Ana"), ("b", "Ben")])
    assert r._dirty == set()  # nothing changed: nothing to send
    r.local_changed("c", [])
    assert "c" not in r.local
    assert json.loads(r._message("c"))["h"] == []  # tells the others the room emptied
    many = [(f"{n:03}", "x" * 100) for n in range(MAX_PEOPLE + 40)]
    r.local_changed("e", many)
    message = r._message("e")
    assert len(json.loads(message)["h"]) == MAX_PEOPLE
    assert len(message.encode()) < 8000  # what NOTIFY takes
