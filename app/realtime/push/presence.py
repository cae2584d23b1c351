"""Who is in a case room right now: the readers of a case socket opened with
``?presence=1`` (the console's case room does; its case lists do not).

Each such connection, once live, and each time one leaves, makes the hub send every
presence reader of that case ``{"type":"presence","here":[{"id":..,"name":..},..]}``:
the distinct agents with such a socket open *on this server process* (several
`swarmdesk serve` processes each know their own sockets only). Presence frames carry no
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


def presence_frame(clients: Iterable[Any]) -> str:
    """The frame for the presence readers among `clients` (each with an `actor`)."""
    here: dict[str, str] = {}
    for client in clients:
        actor = client.actor
        if client.presence and actor is not None:
            here.setdefault(str(actor.id), actor.name)
    people = [{"id": agent, "name": name} for agent, name in sorted(here.items())]
    return dumps({"type": "presence", "here": people})
