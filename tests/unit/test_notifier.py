"""The notifier's recent batches: only exactly what the log holds after a position."""

from __future__ import annotations

import uuid

from app.store.listen import events_channel
from app.store.notifier import RECENT_ROWS, Notifier
from app.store.types import RecordedEvent
from projections.writer import notify_channel


def rows(first: int, last: int) -> list[RecordedEvent]:
    stream = uuid.uuid4()
    return [
        RecordedEvent(p, uuid.uuid4(), stream, p - first + 1, "t", b"{}")
        for p in range(first, last + 1)
    ]


def positions(found: list[RecordedEvent] | None) -> list[int] | None:
    return None if found is None else [r.position for r in found]


def test_recent_answers_contiguous_rows_after_a_position() -> None:
    notifier = Notifier()
    assert notifier.recent(0, 10) is None
    notifier.notify(3, rows(1, 3))
    notifier.notify(5, rows(4, 5))
    assert notifier.latest == 5
    assert positions(notifier.recent(0, 10)) == [1, 2, 3, 4, 5]
    assert positions(notifier.recent(2, 2)) == [3, 4]
    assert positions(notifier.recent(4, 10)) == [5]
    assert notifier.recent(5, 10) is None  # nothing after the head


def test_a_batch_from_another_process_in_between_is_never_skipped() -> None:
    notifier = Notifier()
    notifier.notify(3, rows(1, 3))
    notifier.notify(7)  # another process committed 4..7 (a LISTEN wake-up, no rows)
    assert notifier.latest == 7
    assert notifier.recent(3, 10) is None  # 4.. must be read from the database
    notifier.notify(9, rows(8, 9))  # ours again: 8, 9 do not join 3
    assert notifier.recent(3, 10) is None
    assert notifier.recent(0, 10) is None  # the old rows were dropped, not joined
    assert positions(notifier.recent(7, 10)) == [8, 9]


def test_only_the_latest_rows_are_kept() -> None:
    notifier = Notifier()
    notifier.notify(RECENT_ROWS + 10, rows(1, RECENT_ROWS + 10))
    assert notifier.recent(0, 10) is None  # too far behind: the database
    assert positions(notifier.recent(RECENT_ROWS + 8, 10)) == [RECENT_ROWS + 9, RECENT_ROWS + 10]


def test_every_schema_has_its_own_notify_channels() -> None:
    for channel in (events_channel, notify_channel):
        assert channel(None) == channel("")  # the database's default schema
        names = {channel(None), channel("a"), channel("b"), channel("t_" + "x" * 61)}
        assert len(names) == 4
        assert all(len(name) <= 63 for name in names)  # PostgreSQL's identifier limit
        assert channel("a") == channel("a")
