"""The events of an ``Article``: a permanent, public, JSON-simple schema.

``Article`` (``domain.article``) takes each class below as a nested event class, so stored
topics read ``domain.article:Article.<Name>``.

A *section* is a list of sentences; a sentence is ``{"text": str, "source": Source}``
and a source says where the sentence came from (see ``domain.knowledge``)::

    {"event": "InsightPosted", "stream_id": "<case id>", "version": 7,
     "author_id": "<agent id>", "at": "2026-12-07T03:12:09.120000+00:00"}

A sentence the editor wrote has ``"event": "Edited"`` with the article's id and the
version of the edit; when it rewrites a sentence that came from the case, ``"was"``
keeps the earlier source. ``sections`` maps ``problem``, ``environment``, ``cause`` and
``resolution`` (KCS) to their sentences; events always carry every section in full, so a
reader never needs earlier events to know the text. Versioning as in
``domain.case_events``: never change a class in place.
"""

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

__all__ = ["Drafted", "Edited", "Flagged", "Published", "Retired", "Reused"]

Sections = dict[str, list[dict[str, Any]]]


class Drafted(Aggregate.Created):
    """The owner of a resolved case drafted an article from its swarm."""

    class_version = 1
    case_id: UUID
    drafted_by: UUID
    title: str
    product_area: str
    sections: Sections


class Edited(Aggregate.Event):
    """The full new text; surviving sentences keep their source."""

    class_version = 1
    edited_by: UUID
    title: str
    sections: Sections


class Published(Aggregate.Event):
    class_version = 1
    published_by: UUID


class Flagged(Aggregate.Event):
    """Someone found it wrong or out of date, saying why."""

    class_version = 1
    flagged_by: UUID
    reason: str


class Retired(Aggregate.Event):
    class_version = 1
    retired_by: UUID
    reason: str  # may be ""


class Reused(Aggregate.Event):
    """The article helped solve ``case_id`` (linked from that case)."""

    class_version = 1
    case_id: UUID
    reused_by: UUID
