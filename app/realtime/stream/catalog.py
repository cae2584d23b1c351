"""What the stream calls each stored topic: CloudEvents `type`, `source` and version.

A topic such as `domain.case:Case.InsightPosted` becomes
`type = io.swarmdesk.case.insight_posted.v1` and `source = /swarmdesk/cases/{id}`; the
kind (`case`, `agent`) is the last segment of the topic's module. The version is the
event class's current `class_version`: the mapper upcasts old events to it, so every
event of a name is emitted in the current version's shape.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic, resolve_topic

from app.store.codec import event_name

TYPE_PREFIX = "io.swarmdesk"
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def snake_case(name: str) -> str:
    """`InsightPosted` -> `insight_posted`."""
    return _CAMEL.sub("_", name).lower()


@dataclass(frozen=True, slots=True)
class TopicInfo:
    """How one stored topic appears on the stream."""

    topic: str
    name: str  # InsightPosted
    kind: str  # case | agent
    version: int
    event_class: type[Aggregate.Event] | None

    @property
    def type(self) -> str:
        return f"{TYPE_PREFIX}.{self.kind}.{snake_case(self.name)}.v{self.version}"

    @property
    def source_prefix(self) -> str:
        return f"/swarmdesk/{self.kind}s/"


@functools.lru_cache(maxsize=1024)
def topic_info(topic: str) -> TopicInfo:
    """The stream's view of `topic` (cached; an unresolvable topic still gets a name)."""
    module = topic.partition(":")[0]
    kind = module.rsplit(".", 1)[-1].removesuffix("_events")
    try:
        cls = resolve_topic(topic)
    except Exception:  # a topic this build cannot import: still streamable, as version 1
        cls = None
    version = int(getattr(cls, "class_version", 1) or 1)
    return TopicInfo(topic, event_name(topic), kind, version, cls)


def _aggregates() -> list[type[Aggregate]]:
    from domain.agent import Agent
    from domain.article import Article
    from domain.case import Case

    return [Case, Agent, Article]


@functools.lru_cache(maxsize=1)
def known_topics() -> tuple[TopicInfo, ...]:
    """Every event class the domain declares (with a `class_version`), in declaration order."""
    out: list[TopicInfo] = []
    for aggregate in _aggregates():
        for value in vars(aggregate).values():
            if (
                isinstance(value, type)
                and issubclass(value, Aggregate.Event)
                and getattr(value, "class_version", None) is not None
            ):
                out.append(topic_info(get_topic(value)))
    return tuple(out)


def resolve_type_filter(value: str) -> TopicInfo | None:
    """A CloudEvents type (`io.swarmdesk.case.insight_posted.v1`), an event name
    (`InsightPosted`) or its snake case (`insight_posted`) -> the topic; None if unknown."""
    for info in known_topics():
        if value in (info.type, info.name, snake_case(info.name)):
            return info
    return None
