"""``Agent``: a support person's profile. In swarming there are no tiers: any agent can own
cases and join swarms, so the profile says what they know and how much room they have.

Rules (``InvalidInput`` unless noted):
  - the agent id is ``agent_id_for(token subject)``: the subject itself when it is a UUID
    in canonical form (identity providers such as Keycloak give user ids so, and people
    invite a colleague by that id), else a uuid5 in a fixed namespace, so the same login
    always maps to the same agent without a lookup table.
  - ``register``: no actor check (the app registers an agent the first time its token is
    seen); ``update_profile``: only the agent itself or an admin (``NotAllowed``).
  - name: stripped, non-empty. Skills: names stripped and lower-cased, non-empty; levels
    are ints 1..5. Interests: stripped, empties and repeats dropped. Timezone: an IANA key
    ``zoneinfo`` knows (``UTC``, ``Europe/Paris``). Availability: an ``Availability``
    value. Capacity (max concurrent swarms): an int 0..20. Working hours and quiet hours:
    ``"HH:MM-HH:MM"`` local spans or "" (``domain.schedule``); working days: names
    ``mon``..``sun`` (empty means all). E-mail: "" or one address with an ``@``.
    Channels: a subset of ``CHANNELS`` (the inbox is always on).
  - ``update_profile`` arguments left as ``None`` keep the current value; the event always
    carries the full new profile, so a reader never needs earlier events to know it.
    An update is recorded even if nothing changed (a PUT is a statement of intent).
"""

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any
from uuid import UUID, uuid5
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from eventsourcing.domain import Aggregate, event

from domain.actors import Actor
from domain.errors import InvalidInput, NotAllowed
from domain.schedule import DAYS, parse_span
from domain.values import Availability, parse_enum, require_text, unique_texts

__all__ = ["AGENT_NAMESPACE", "CHANNELS", "MAX_CAPACITY", "Agent", "agent_id_for"]

#: Namespace of agent ids. Never change it: every stored agent id derives from it.
AGENT_NAMESPACE = UUID("cea6c259-9f5e-4a5a-8fd6-e34ac90012ea")
MAX_CAPACITY = 20
MIN_SKILL_LEVEL, MAX_SKILL_LEVEL = 1, 5
CHANNELS = ("email", "webhook")  # outbound notification channels an agent may choose
#: The schedule fields (v3 of ``Registered``, v2 of ``ProfileUpdated``) and their defaults.
SCHEDULE_DEFAULTS: dict[str, object] = {
    "working_hours": "",
    "working_days": list(DAYS),
    "quiet_hours": "",
    "email": "",
    "channels": [],
}


def agent_id_for(subject: str) -> UUID:
    """The agent id for a token subject: the subject when it is a canonical UUID
    (any case), else uuid5 in ``AGENT_NAMESPACE`` (stable)."""
    if len(subject) == 36 and subject.count("-") == 4:
        try:
            parsed = UUID(subject)
        except ValueError:
            pass
        else:
            if str(parsed) == subject.lower():
                return parsed
    return uuid5(AGENT_NAMESPACE, subject)


class Agent(Aggregate):
    """A support person's profile. Create with ``Agent.register``."""

    class Registered(Aggregate.Created):
        """v2: the identity provider's ``subject`` (the token's ``sub``; "" before v2);
        v3: the schedule and notification fields (``SCHEDULE_DEFAULTS`` before v3)."""

        class_version = 3
        subject: str
        name: str
        skills: dict[str, int]  # skill -> level 1..5
        interests: list[str]
        timezone: str
        availability: str  # Availability value
        capacity: int
        working_hours: str
        working_days: list[str]
        quiet_hours: str
        email: str
        channels: list[str]

        @staticmethod
        def upcast_v1_v2(state: dict[str, object]) -> None:
            state["subject"] = ""

        @staticmethod
        def upcast_v2_v3(state: dict[str, object]) -> None:
            state.update(_schedule_defaults())

    class ProfileUpdated(Aggregate.Event):
        """The full new profile; v2: the schedule fields (defaults before v2)."""

        class_version = 2
        updated_by: UUID
        name: str
        skills: dict[str, int]
        interests: list[str]
        timezone: str
        availability: str
        capacity: int
        working_hours: str
        working_days: list[str]
        quiet_hours: str
        email: str
        channels: list[str]

        @staticmethod
        def upcast_v1_v2(state: dict[str, object]) -> None:
            state.update(_schedule_defaults())

    @classmethod
    def register(
        cls,
        agent_id: UUID,
        *,
        name: str,
        subject: str = "",
        skills: Mapping[str, int] | None = None,
        interests: Sequence[str] = (),
        timezone: str = "UTC",
        availability: Availability | str = Availability.AVAILABLE,
        capacity: int = 3,
        **schedule: Any,
    ) -> "Agent":
        """Register; ``schedule`` takes the ``SCHEDULE_DEFAULTS`` fields."""
        return cls._create(
            cls.Registered,
            id=agent_id,
            subject=subject,
            name=require_text(name, "name", offending_id=agent_id),
            skills=_check_skills(skills or {}, agent_id),
            interests=unique_texts(interests),
            timezone=_check_timezone(timezone, agent_id),
            availability=parse_enum(
                Availability, availability, "availability", offending_id=agent_id
            ).value,
            capacity=_check_capacity(capacity, agent_id),
            **check_schedule(schedule, _schedule_defaults(), agent_id),
        )

    @event(Registered)
    def __init__(
        self,
        subject: str,
        name: str,
        skills: dict[str, int],
        interests: list[str],
        timezone: str,
        availability: str,
        capacity: int,
        working_hours: str,
        working_days: list[str],
        quiet_hours: str,
        email: str,
        channels: list[str],
    ) -> None:
        self.subject = subject
        schedule = {
            "working_hours": working_hours,
            "working_days": working_days,
            "quiet_hours": quiet_hours,
            "email": email,
            "channels": channels,
        }
        self._set_profile(name, skills, interests, timezone, availability, capacity, schedule)

    def update_profile(
        self,
        actor: Actor,
        *,
        name: str | None = None,
        skills: Mapping[str, int] | None = None,
        interests: Sequence[str] | None = None,
        timezone: str | None = None,
        availability: Availability | str | None = None,
        capacity: int | None = None,
        **schedule: Any,
    ) -> None:
        """Replace the profile; ``None`` keeps a field. Only the agent itself or an admin."""
        if actor.id != self.id and not actor.is_admin:
            raise NotAllowed(
                "only the agent itself or an admin may update a profile",
                actor_id=actor.id,
                offending_id=self.id,
            )
        ids = {"actor_id": actor.id, "offending_id": self.id}
        self._update_profile(
            updated_by=actor.id,
            name=self._name if name is None else require_text(name, "name", **ids),
            skills=self._skills if skills is None else _check_skills(skills, self.id),
            interests=self._interests if interests is None else unique_texts(interests),
            timezone=self._timezone if timezone is None else _check_timezone(timezone, self.id),
            availability=(
                self._availability
                if availability is None
                else parse_enum(Availability, availability, "availability", **ids)
            ).value,
            capacity=self._capacity if capacity is None else _check_capacity(capacity, self.id),
            **check_schedule(schedule, self._schedule, self.id),
        )

    @event(ProfileUpdated)
    def _update_profile(
        self,
        updated_by: UUID,
        name: str,
        skills: dict[str, int],
        interests: list[str],
        timezone: str,
        availability: str,
        capacity: int,
        working_hours: str,
        working_days: list[str],
        quiet_hours: str,
        email: str,
        channels: list[str],
    ) -> None:
        schedule = {
            "working_hours": working_hours,
            "working_days": working_days,
            "quiet_hours": quiet_hours,
            "email": email,
            "channels": channels,
        }
        self._set_profile(name, skills, interests, timezone, availability, capacity, schedule)

    def _set_profile(
        self,
        name: str,
        skills: dict[str, int],
        interests: list[str],
        timezone: str,
        availability: str,
        capacity: int,
        schedule: Mapping[str, Any],
    ) -> None:
        self._name = name
        self._skills = dict(skills)
        self._interests = list(interests)
        self._timezone = timezone
        self._availability = Availability(availability)
        self._capacity = capacity
        self._schedule = {k: schedule[k] for k in SCHEDULE_DEFAULTS}

    @property
    def schedule(self) -> Mapping[str, Any]:
        """Working hours and days, quiet hours, e-mail, channels (``SCHEDULE_DEFAULTS``)."""
        return MappingProxyType(self._schedule)

    @property
    def name(self) -> str:
        return self._name

    @property
    def skills(self) -> Mapping[str, int]:
        return MappingProxyType(self._skills)

    @property
    def interests(self) -> tuple[str, ...]:
        return tuple(self._interests)

    @property
    def timezone(self) -> str:
        return self._timezone

    @property
    def availability(self) -> Availability:
        return self._availability

    @property
    def capacity(self) -> int:
        return self._capacity


def _schedule_defaults() -> dict[str, Any]:
    return {k: list(v) if isinstance(v, list) else v for k, v in SCHEDULE_DEFAULTS.items()}


def check_schedule(
    given: Mapping[str, Any], current: Mapping[str, Any], agent_id: UUID
) -> dict[str, Any]:
    """The schedule fields: ``given`` (``None`` or absent keeps ``current``), checked."""
    unknown = set(given) - set(SCHEDULE_DEFAULTS)
    if unknown:
        raise InvalidInput(sorted(unknown)[0], "is not a profile field", offending_id=agent_id)
    out = dict(current)
    for key, value in given.items():
        if value is None:
            continue
        if key in ("working_hours", "quiet_hours"):
            try:
                parse_span(value)
            except (ValueError, AttributeError):
                raise InvalidInput(
                    key, f"{value!r} is not HH:MM-HH:MM", offending_id=agent_id
                ) from None
            out[key] = value.strip()
        elif key == "working_days":
            if any(d not in DAYS for d in value):
                raise InvalidInput(key, f"each one of: {', '.join(DAYS)}", offending_id=agent_id)
            out[key] = [d for d in DAYS if d in value] or list(DAYS)
        elif key == "email":
            address = str(value).strip()
            if address and (address.count("@") != 1 or any(c.isspace() for c in address)):
                raise InvalidInput(key, f"{address!r} is not an address", offending_id=agent_id)
            out[key] = address
        else:  # channels
            if any(c not in CHANNELS for c in value):
                allowed = ", ".join(CHANNELS)
                raise InvalidInput(key, f"each one of: {allowed}", offending_id=agent_id)
            out[key] = [c for c in CHANNELS if c in value]
    return out


def _check_skills(skills: Mapping[str, int], agent_id: UUID) -> dict[str, int]:
    checked: dict[str, int] = {}
    for raw_name, level in skills.items():
        name = require_text(raw_name, "skills", offending_id=agent_id).lower()
        if not _int_between(level, MIN_SKILL_LEVEL, MAX_SKILL_LEVEL):
            raise InvalidInput(
                "skills",
                f"level of {name!r} must be an int {MIN_SKILL_LEVEL}..{MAX_SKILL_LEVEL}, "
                f"not {level!r}",
                offending_id=agent_id,
            )
        checked[name] = level
    return checked


def _check_timezone(timezone: str, agent_id: UUID) -> str:
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            "timezone", f"{timezone!r} is not a known IANA time zone", offending_id=agent_id
        ) from None
    return timezone


def _check_capacity(capacity: int, agent_id: UUID) -> int:
    if not _int_between(capacity, 0, MAX_CAPACITY):
        raise InvalidInput(
            "capacity", f"must be an int 0..{MAX_CAPACITY}, not {capacity!r}", offending_id=agent_id
        )
    return capacity


def _int_between(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
