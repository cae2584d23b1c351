"""The terms of an SLA policy, as values: which targets, how long, on which calendar.

A policy document (what admins send, what `SlaPolicy` events store, what
`swarmdesk sla what-if` reads) is JSON-simple::

    {"name": "Standard", "active": true, "warn_share": 0.8,
     "calendar": {"timezone": "Europe/Paris",
                  "weekly": {"mon": [["09:00", "17:00"]], ...},
                  "holidays": ["2026-12-25"]},
     "customer_tiers": {"ACME Corp": "gold"},
     "targets": [{"target": "first_response", "minutes": 60,
                  "priority": "urgent", "tier": "*", "channel": "*"}, ...]}

Choosing a target's minutes for a case (`Policy.minutes_for`): among the rules of that
target whose priority, tier and channel match (``"*"`` matches anything), the most
specific one (most non-``"*"`` fields); on a tie, the first listed. No match: the case
has no such target. A customer's tier is `customer_tiers[customer]`, else ``"standard"``.
The calendar is `domain.business_hours.Calendar` (omitted: around the clock, UTC).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from domain.business_hours import Calendar
from domain.errors import InvalidInput
from domain.values import Channel, Priority

__all__ = ["DEFAULT_TIER", "Policy", "SlaTarget", "TargetRule", "Urgencies"]

DEFAULT_TIER = "standard"
ANY = "*"


class SlaTarget(StrEnum):
    FIRST_RESPONSE = "first_response"  # Opened -> first outbound customer message
    NEXT_RESPONSE = "next_response"  # inbound customer message -> the next outbound one
    RESOLUTION = "resolution"  # Opened (or Reopened) -> Resolved


class Urgencies:
    """Swarm urgency raised as a deadline nears: warned -> high, breached -> critical."""

    WARNED = "high"
    BREACHED = "critical"


@dataclass(frozen=True)
class TargetRule:
    target: SlaTarget
    minutes: int
    priority: str = ANY
    tier: str = ANY
    channel: str = ANY

    def matches(self, priority: str, tier: str, channel: str) -> bool:
        return (
            self.priority in (ANY, priority)
            and self.tier in (ANY, tier)
            and self.channel in (ANY, channel)
        )

    @property
    def specificity(self) -> int:
        return sum(v != ANY for v in (self.priority, self.tier, self.channel))


@dataclass(frozen=True)
class Policy:
    """A validated policy document (`Policy.of`); `as_document` gives it back."""

    name: str
    calendar: Calendar
    rules: tuple[TargetRule, ...]
    warn_share: float = 0.8
    customer_tiers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    active: bool = True
    _minutes: dict[tuple[SlaTarget, str, str, str], int | None] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def tier_of(self, customer: str) -> str:
        return self.customer_tiers.get(customer, DEFAULT_TIER)

    def minutes_for(self, target: SlaTarget, priority: str, tier: str, channel: str) -> int | None:
        key = (target, priority, tier, channel)
        try:
            return self._minutes[key]  # every clock asks: what-if replays ask often
        except KeyError:
            pass
        best: TargetRule | None = None
        for rule in self.rules:
            better = best is None or rule.specificity > best.specificity
            if better and rule.target is target and rule.matches(priority, tier, channel):
                best = rule
        found = self._minutes[key] = None if best is None else best.minutes
        return found

    @classmethod
    def of(cls, doc: Mapping[str, Any]) -> Policy:
        """Validate a document; `InvalidInput` names the field at fault."""
        if not isinstance(doc, Mapping):
            raise InvalidInput("policy", "must be an object")
        name = doc.get("name")
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput("name", "must be a non-empty string")
        warn = doc.get("warn_share", 0.8)
        if isinstance(warn, bool) or not isinstance(warn, int | float) or not 0 < warn < 1:
            raise InvalidInput("warn_share", "must be a number between 0 and 1 (exclusive)")
        active = doc.get("active", True)
        if not isinstance(active, bool):
            raise InvalidInput("active", "must be true or false")
        cal = doc.get("calendar") or {}
        try:
            calendar = Calendar.of(
                str(cal.get("timezone", "UTC")), cal.get("weekly"), cal.get("holidays", ())
            )
        except (ValueError, TypeError, AttributeError, IndexError) as exc:
            raise InvalidInput("calendar", str(exc)) from None
        tiers = doc.get("customer_tiers") or {}
        if not isinstance(tiers, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) and v for k, v in tiers.items()
        ):
            raise InvalidInput("customer_tiers", "must map customer names to tier names")
        targets = doc.get("targets")
        if not isinstance(targets, list) or not targets:
            raise InvalidInput("targets", "must be a non-empty list")
        rules = tuple(_rule(i, t) for i, t in enumerate(targets))
        return cls(
            name.strip(), calendar, rules, float(warn), MappingProxyType(dict(tiers)), active
        )

    def as_document(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "active": self.active,
            "warn_share": self.warn_share,
            "calendar": self.calendar.as_data(),
            "customer_tiers": dict(self.customer_tiers),
            "targets": [
                {
                    "target": r.target.value,
                    "minutes": r.minutes,
                    "priority": r.priority,
                    "tier": r.tier,
                    "channel": r.channel,
                }
                for r in self.rules
            ],
        }


def _rule(index: int, raw: Any) -> TargetRule:
    where = f"targets[{index}]"
    if not isinstance(raw, Mapping):
        raise InvalidInput(where, "must be an object")
    try:
        target = SlaTarget(str(raw.get("target")))
    except ValueError:
        allowed = ", ".join(t.value for t in SlaTarget)
        raise InvalidInput(f"{where}.target", f"must be one of: {allowed}") from None
    minutes = raw.get("minutes")
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 0 < minutes <= 10**6:
        raise InvalidInput(f"{where}.minutes", "must be a whole number of minutes above 0")
    values: dict[str, str] = {}
    for name, enum in (("priority", Priority), ("channel", Channel)):
        value = raw.get(name, ANY)
        if value != ANY and value not in {m.value for m in enum}:
            raise InvalidInput(f"{where}.{name}", f"{value!r} is not '*' or a {name}")
        values[name] = value
    tier = raw.get("tier", ANY)
    if not isinstance(tier, str) or not tier:
        raise InvalidInput(f"{where}.tier", "must be a tier name or '*'")
    return TargetRule(target, minutes, values["priority"], tier, values["channel"])
