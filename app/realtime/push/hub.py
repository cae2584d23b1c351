"""The hub: per-document channels of subscribed clients, fed in log order.

Contract: `publish` must be called with every change of the process's change feed, in
position order, each once (`app.realtime.push.feed.ChangeFeed` does). For each change with
subscribers the hub serialises one frame and hands the same string to every client of
the channel (`Client.push`: inline, non-blocking, bounded); a change nobody watches
costs a dictionary lookup. A client registers *before* it loads its snapshot, so every
change committed after the snapshot was read reaches it (earlier ones are dropped by
position).

``prev`` of a patch is the position of the channel's previous change. The hub knows it
from the previous change it published on the channel; for the first change after a
channel was created it is the position the subscriber started from (its snapshot or
replay), which is exactly the previous change: any earlier change was published, hence
committed, before the subscriber registered, so its snapshot holds it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from uuid import UUID

from app.realtime.push.client import Client, ForceClose, Send
from app.realtime.push.presence import people_of, presence_frame
from app.realtime.push.presence_relay import PresenceRelay
from app.realtime.push.protocol import HEARTBEAT, patch_frame
from domain.actors import Actor
from projections.changes import ViewChange
from projections.fold import Change

log = logging.getLogger(__name__)

ChannelKey = tuple[str, str]  # (view, key)


@dataclass(slots=True, eq=False)
class Channel:
    key: ChannelKey
    clients: set[Client] = field(default_factory=set)
    last: int | None = None  # position of the last change published here
    #: Changes held while the readers' access is checked again (None: not checking).
    held: list[ViewChange | Change] | None = None


#: Who may still read a case: (case key, the actors reading it) -> (the ids still
#: allowed, the position the views had reached when that was read).
Access = Callable[[str, Sequence[Actor]], Awaitable[tuple[set[UUID], int]]]
#: Ops on these members of a case view can change who may read it.
_MEMBERS = re.compile(r'"path":\s*"/(participants|invitations|owner)\b')
REVOKED = 4403
TRY_AGAIN = 1013
REVOKED_REASON = "you may no longer read this case"


@dataclass(slots=True)
class HubStats:
    changes: int = 0  # changes published to at least one client
    deliveries: int = 0
    fell_behind: int = 0


class Hub:
    """See the module docstring. One per process; lives on the event loop's thread."""

    def __init__(
        self,
        queue_limit: int = 256,
        heartbeat_seconds: float = 15.0,
        *,
        inline: bool = True,
        access: Access | None = None,
        queue_bytes: int = 1 << 20,
        stall_seconds: float = 10.0,
        close_grace_seconds: float = 5.0,
        force_close: ForceClose | None = None,
    ) -> None:
        self.queue_limit = queue_limit
        #: Per-socket budgets (`app.realtime.push.client`): bytes queued, seconds a send
        #: may stay suspended (checked by a sweep every quarter of it), and how long a
        #: forced close waits for the peer's answer before aborting the connection.
        self.queue_bytes = queue_bytes
        self.stall_seconds = stall_seconds
        self.close_grace_seconds = close_grace_seconds
        self.force_close = force_close
        self._sweep: asyncio.Task[None] | None = None
        self.inline = inline  # the `inline_send` server tweak
        #: Checks who may still read a case when its members change; readers who may
        #: not are closed (4403) before the change, or any later one, reaches them.
        self.access = access
        self._checks: set[asyncio.Task[None]] = set()
        self.heartbeat_seconds = heartbeat_seconds
        self.channels: dict[ChannelKey, Channel] = {}
        self.stats = HubStats()
        #: Presence on the other server processes (None: this process's sockets only).
        self.presence_relay: PresenceRelay | None = None
        #: Told `(position, clients)` for each change handed to clients (metrics, traces).
        self.on_publish: Callable[[int, int], None] | None = None
        self._heartbeat: asyncio.Task[None] | None = None

    # -- subscriptions -------------------------------------------------------------
    def register(self, view: str, key: str, send: Send, actor: Actor | None = None) -> Client:
        """Subscribe a connection (in STARTING state) to the document (view, key)."""
        channel = self.channels.get((view, key))
        if channel is None:
            channel = self.channels[(view, key)] = Channel((view, key))
        client = Client(
            send,
            channel,
            self.queue_limit,
            inline=self.inline,
            actor=actor,
            byte_limit=self.queue_bytes,
            force_close=self.force_close,
        )
        channel.clients.add(client)
        return client

    def unregister(self, client: Client) -> None:
        client.gone()
        was_in = client in client.channel.clients
        self._leave(client)
        if was_in and client.presence:
            self.announce(client.channel)

    def announce(self, channel: Channel, *, changed: bool = True) -> None:
        """Tell the channel's presence readers who is in the room (`presence`): this
        process's readers and, with a relay, the other processes' (`presence_relay`),
        which hear of this process's set when it `changed`."""
        present = [c for c in channel.clients if c.presence]
        relay = self.presence_relay
        key = channel.key[1]
        if changed and relay is not None and channel.key[0] == "case":
            relay.local_changed(key, people_of(present))
        if not present:
            return
        frame = presence_frame(present, relay.people(key) if relay is not None else ())
        for client in present:
            if not client.push(0, frame):
                self.stats.fell_behind += 1
                self._leave(client)

    def refresh(self, case_key: str) -> None:
        """Another process's set of this room changed: tell this process's readers."""
        channel = self.channels.get(("case", case_key))
        if channel is not None:
            self.announce(channel, changed=False)

    def _leave(self, client: Client) -> None:
        channel: Channel = client.channel
        channel.clients.discard(client)
        if not channel.clients and self.channels.get(channel.key) is channel:
            del self.channels[channel.key]

    @property
    def client_count(self) -> int:
        return sum(len(c.clients) for c in self.channels.values())

    # -- fan-out -------------------------------------------------------------------
    def publish(self, change: ViewChange | Change) -> None:
        """A change read back (`ViewChange`) or the projector's own (`Change`, its ops
        already JSON text: the same text, taken as it is)."""
        channel = self.channels.get((change.view, change.key))
        if channel is None:
            return
        if channel.held is not None:  # readers are being checked: after them, in order
            channel.held.append(change)
            return
        if isinstance(change, Change):
            ops_json = change.ops_json
        else:
            ops_json = json.dumps(change.ops, separators=(",", ":"), ensure_ascii=False)
        if self.access is not None and change.view == "case" and _MEMBERS.search(ops_json):
            channel.held = [change]
            check = asyncio.get_running_loop().create_task(self._recheck(channel))
            self._checks.add(check)
            check.add_done_callback(self._checks.discard)
            return
        self._deliver(channel, change, ops_json)

    async def _recheck(self, channel: Channel) -> None:
        """Close the readers who may no longer read, then deliver what was held (a held
        change that touches members again starts another check)."""
        assert self.access is not None
        while channel.held:
            readers = [c for c in channel.clients if c.actor is not None]
            try:
                allowed, seen = await self.access(channel.key[1], [c.actor for c in readers])
            except Exception:  # unsure who may read: everyone reconnects (and is checked)
                log.exception("push: re-checking the readers of %s failed", channel.key)
                for client in readers:
                    client.revoke(TRY_AGAIN, "reconnect: your access is being checked")
                    self._leave(client)
                allowed, seen = set(), 0
            for client in readers:
                if client.last == 0:  # still starting: it checks again once it has started
                    client.recheck = True
                elif client.last <= seen and client.actor.id not in allowed:
                    client.revoke(REVOKED, REVOKED_REASON)
                    self._leave(client)
            held, channel.held = channel.held, None
            for n, change in enumerate(held):
                if n and self._touches_members(change):
                    channel.held = held[n:]  # check again before this one
                    break
                self._deliver(channel, change, self._ops_json(change))

    @staticmethod
    def _ops_json(change: ViewChange | Change) -> str:
        if isinstance(change, Change):
            return change.ops_json
        return json.dumps(change.ops, separators=(",", ":"), ensure_ascii=False)

    def _touches_members(self, change: ViewChange | Change) -> bool:
        return change.view == "case" and bool(_MEMBERS.search(self._ops_json(change)))

    def _deliver(self, channel: Channel, change: ViewChange | Change, ops_json: str) -> None:
        prev = channel.last
        channel.last = change.position
        frame = patch_frame(change.position, prev, change.version, ops_json)
        fill_prev = prev is None
        self.stats.changes += 1
        clients = list(channel.clients)
        for client in clients:
            self.stats.deliveries += 1
            if not client.push(change.position, frame, fill_prev):
                self.stats.fell_behind += 1
                self._leave(client)
        if self.on_publish is not None:
            self.on_publish(change.position, len(clients))

    def publish_all(self, changes: Sequence[ViewChange | Change]) -> None:
        for change in changes:
            self.publish(change)

    def heartbeat(self) -> None:
        """One heartbeat frame to every client (also finds dead and stalled ones)."""
        for channel in list(self.channels.values()):
            for client in list(channel.clients):
                if not client.push(0, HEARTBEAT):
                    self.stats.fell_behind += 1
                    self._leave(client)

    def sweep(self, now: float) -> int:
        """Close every client whose send has been suspended over `stall_seconds` (its
        peer does not read): counted as fallen behind unless it was being closed
        already. How many were closed."""
        closed = 0
        for channel in list(self.channels.values()):
            for client in list(channel.clients):
                if client.stalled(now, self.stall_seconds):
                    if client.state.value in ("starting", "live"):
                        self.stats.fell_behind += 1
                    client.abandon(self.close_grace_seconds)
                    self._leave(client)
                    closed += 1
                    if client.presence:
                        self.announce(channel)
        return closed

    # -- life cycle ----------------------------------------------------------------
    async def start(self) -> None:
        if self._heartbeat is None and self.heartbeat_seconds > 0:
            self._heartbeat = asyncio.create_task(self._beat(), name="swarmdesk-push-heartbeat")
        if self._sweep is None and self.stall_seconds > 0:
            self._sweep = asyncio.create_task(self._sweeping(), name="swarmdesk-push-sweep")

    async def close(self) -> None:
        for task in (self._heartbeat, self._sweep):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._heartbeat = self._sweep = None

    async def _sweeping(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.stall_seconds / 4)
            try:
                self.sweep(loop.time())
            except Exception:  # a bug here must not stop the sweeps
                log.exception("push sweep failed")

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_seconds)
            try:
                self.heartbeat()
            except Exception:  # a bug here must not stop the heartbeats
                log.exception("push heartbeat failed")
