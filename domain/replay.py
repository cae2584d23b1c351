"""Rebuild an aggregate from its events, as eventsourcing's repository does."""

from collections.abc import Iterable
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate, CanMutateAggregate

__all__ = ["aggregate_from_events"]

A = TypeVar("A", bound=Aggregate)


def aggregate_from_events(cls: type[A], events: Iterable[CanMutateAggregate[UUID]]) -> A:
    """Apply ``events`` in order (the first must create the aggregate); no rules run."""
    aggregate: Any = None
    for domain_event in events:
        aggregate = domain_event.mutate(aggregate)
    if not isinstance(aggregate, cls):
        msg = f"events did not rebuild a {cls.__name__} (got {type(aggregate).__name__})"
        raise TypeError(msg)
    return aggregate
