"""The outcome events of a ``Case``: waiting on the customer, satisfaction, SLA clocks and
the swarm urgency they raise. Same schema rules as ``domain.case_events`` (JSON-simple
fields, never changed in place, ``class_version`` plus upcasters); ``Case`` takes each as
a nested class, so stored topics read ``domain.case:Case.<Name>``.

Times are ISO 8601 UTC text. An SLA clock is named by ``target`` (``SlaTarget`` value)
and ``cycle`` (1, 2, ... per target and case: a next-response clock starts at every
inbound message, a resolution clock again after ``Reopened``). A clock's life:
``SlaClockStarted`` -> (``SlaPaused`` -> ``SlaResumed``)* -> ``SlaWarned``? ->
``SlaMet`` | ``SlaBreached`` (a clock stopped late records ``SlaBreached`` only; a clock
of a case closed unresolved just ends, recording nothing).
"""

from uuid import UUID

from eventsourcing.domain import Aggregate

__all__ = [
    "AwaitingCustomer",
    "SatisfactionRecorded",
    "SlaBreached",
    "SlaClockStarted",
    "SlaMet",
    "SlaPaused",
    "SlaResumed",
    "SlaWarned",
    "SwarmUrgencyRaised",
]


class AwaitingCustomer(Aggregate.Event):
    """The owner says the case waits on the customer (``awaiting``) or no longer does.
    An inbound customer message also ends the wait (no event needed)."""

    class_version = 1
    set_by: UUID
    awaiting: bool
    note: str  # may be ""


class SatisfactionRecorded(Aggregate.Event):
    """Customer satisfaction, 1 (very unsatisfied) to 5 (very satisfied)."""

    class_version = 1
    recorded_by: UUID
    score: int
    comment: str  # may be ""
    source: str  # "owner", "survey", an integration's name


class SlaClockStarted(Aggregate.Event):
    class_version = 1
    target: str
    cycle: int
    policy_id: UUID
    minutes: int  # the target, in business minutes
    started_at: str
    due_at: str
    warn_at: str


class SlaPaused(Aggregate.Event):
    """The clock stopped while the case waits on the customer."""

    class_version = 1
    target: str
    cycle: int
    at: str
    remaining_seconds: int  # business seconds left when it paused


class SlaResumed(Aggregate.Event):
    class_version = 1
    target: str
    cycle: int
    at: str
    due_at: str
    warn_at: str


class SlaWarned(Aggregate.Event):
    """The configured share of the target has elapsed."""

    class_version = 1
    target: str
    cycle: int
    due_at: str


class SlaBreached(Aggregate.Event):
    class_version = 1
    target: str
    cycle: int
    due_at: str


class SlaMet(Aggregate.Event):
    class_version = 1
    target: str
    cycle: int
    at: str
    due_at: str
    business_seconds: int  # the business time the clock ran


class SwarmUrgencyRaised(Aggregate.Event):
    """Time pressure pulls in help: the swarm's urgency rises as a deadline nears."""

    class_version = 1
    urgency: str  # Urgency value
    previous: str  # Urgency value, "" when none was raised before
    target: str
    reason: str
