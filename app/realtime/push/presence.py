"""Who is in a case room right now: the readers of a case socket opened with
``?presence=1`` (the console's case room does; its case lists do not).

Each such connection, once live, and each time one leaves, makes the hub send every
presence reader of that case ``{"type":"presence","here":[{"id":..,"name":..},..]}``:
the distinct agents with such a socket open on any server process of the database (on
PostgreSQL, processes tell each other through `app.realtime.push.presence_relay`; a
process that dies drops out within three of its announcement intervals). Presence frames carry no
position: they are not changes of the document and never affect ``prev``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from app.realtime.push.protocol import dumps


def wants_presence(query: dict[str, list[str]]) -> bool:
    """``?presence=1`` (or ``true``) asks for presence frames and counts the caller in."""
    values = query.get("presence")
    if not values:
        return False
    return values[-1] in ("1", "true")


def people_of(clients: Iterable[Any]) -> list[tuple[str, str]]:
    """(agent id, name) of each presence reader among `clients` (each with an `actor`)."""
    return [(str(c.actor.id), c.actor.name) for c in clients if c.presence and c.actor is not None]


def presence_frame(clients: Iterable[Any], others: Iterable[tuple[str, str]] = ()) -> str:
    """The frame for the presence readers among `clients` and the people `others` (the
    other processes' readers, `app.realtime.push.presence_relay`)."""
    here: dict[str, str] = {}
    for agent, name in people_of(clients):
        here.setdefault(agent, name)
    for agent, name in others:
        here.setdefault(agent, name)
    people = [{"id": agent, "name": name} for agent, name in sorted(here.items())]
    return dumps({"type": "presence", "here": people})
