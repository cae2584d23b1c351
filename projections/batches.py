"""What the projector hands its listeners after each committed batch, and a small task
helper its loops share."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from projections.fold import Change


@dataclass(frozen=True, slots=True)
class CommittedBatch:
    """What one committed projector batch changed: every change in (`after`, `position`],
    in position order (a listener that saw `after` last has missed nothing)."""

    changes: Sequence[Change]
    after: int
    position: int


class BatchListener(Protocol):
    """Called after each committed batch that changed something, in commit order, on the
    projector's task: it must not block (hand work off instead)."""

    def __call__(self, batch: CommittedBatch, /) -> None: ...


async def settled(task: asyncio.Task[Any]) -> None:
    """Wait until `task` is done without taking on its outcome (retrieved, so never
    reported as unhandled); a cancellation of the waiter itself propagates."""
    await asyncio.wait({task})
    if not task.cancelled():
        task.exception()
