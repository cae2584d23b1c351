"""A thin synchronous face over an async `EventStore`: eventsourcing's recorder interface.

The store runs on an event loop in a background thread; each call is submitted to that
loop and waited for. It exists so that eventsourcing's own conformance suite
(`eventsourcing.tests.persistence`) can run against our recorders, and so that
synchronous code (scripts, the library's `Application`) can use them.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.persistence import (
    ApplicationRecorder,
    IntegrityError,
    Notification,
    ProgrammingError,
    StoredEvent,
    Subscription,
    Tracking,
    TrackingRecorder,
)

from app.store.base import EventStore
from app.store.batch import as_uuid
from app.store.types import AppendRequest, RecordedEvent

T = TypeVar("T")


def _notification(row: RecordedEvent) -> Notification:
    return Notification(
        id=row.position,
        originator_id=row.originator_id,
        originator_version=row.originator_version,
        topic=row.topic,
        state=row.state,
    )


class SyncRecorder(ApplicationRecorder, TrackingRecorder):
    """eventsourcing's `ApplicationRecorder` + `TrackingRecorder` over our async store."""

    def __init__(self, factory: Callable[[], EventStore]) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.store = self.call(self._start(factory))

    async def _start(self, factory: Callable[[], EventStore]) -> EventStore:
        store = factory()
        await store.start()
        return store

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def close(self) -> None:
        if self._loop.is_closed():
            return
        self.call(self.store.close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    # -- AggregateRecorder ------------------------------------------------------
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int]:
        if not stored_events:
            return []
        result = self.call(self.store.append(AppendRequest(list(stored_events))))
        return result.positions

    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        rows = self.call(
            self.store.read_stream(as_uuid(originator_id), gt=gt, lte=lte, desc=desc, limit=limit)
        )
        return [r.to_stored_event() for r in rows]

    # -- ApplicationRecorder ----------------------------------------------------
    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        after = 0 if start is None else (start - 1 if inclusive_of_start else start)
        rows = self.call(self.store.read(after, limit, until=stop, topics=topics))
        return [_notification(r) for r in rows]

    def max_notification_id(self) -> int | None:
        return self.call(self.store.max_position()) or None

    def subscribe(
        self, gt: int | None = None, topics: Sequence[str] = ()
    ) -> Subscription[ApplicationRecorder]:
        return _SyncSubscription(self, gt=gt, topics=topics)

    # -- TrackingRecorder -------------------------------------------------------
    def insert_tracking(self, tracking: Tracking) -> None:
        self.call(self.store.insert_tracking(tracking.application_name, tracking.notification_id))

    def max_tracking_id(self, application_name: str) -> int | None:
        return self.call(self.store.max_tracking(application_name))


class _SyncSubscription(Subscription[ApplicationRecorder]):
    """Iterates the async subscription from the recorder's loop, one event per call."""

    def __init__(self, recorder: SyncRecorder, gt: int | None, topics: Sequence[str]) -> None:
        super().__init__(recorder, gt=gt, topics=topics)
        self._owner = recorder
        self._iter: AsyncIterator[RecordedEvent] = recorder.store.subscribe(gt or 0, topics=topics)
        self._waiting: asyncio.Future[RecordedEvent] | None = None

    def stop(self) -> None:
        super().stop()
        waiting = self._waiting
        if waiting is not None:
            self._owner._loop.call_soon_threadsafe(waiting.cancel)

    def __next__(self) -> Notification:
        if self._has_been_stopped:
            raise StopIteration
        future = asyncio.run_coroutine_threadsafe(self._next(), self._owner._loop)
        try:
            row = future.result()
        except (asyncio.CancelledError, StopAsyncIteration) as exc:
            raise StopIteration from exc
        if self._has_been_stopped:
            raise StopIteration
        return _notification(row)

    async def _next(self) -> RecordedEvent:
        task = asyncio.ensure_future(self._iter.__anext__())
        self._waiting = task
        try:
            return await task
        finally:
            self._waiting = None


__all__ = ["IntegrityError", "ProgrammingError", "SyncRecorder"]
