"""Request and answer models of the outcome endpoints: waiting on the customer,
satisfaction, SLA policies (admin), KPIs. The policy document is validated twice: its
shape here (a 422 before anything runs), its meaning by `domain.sla_terms.Policy`."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from app.schemas.base import LIST_MAX, Name, OptionalLine, OptionalName, StrictModel

HHMM = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-4]):[0-5][0-9]$")]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Wildcard = Annotated[str, Field(min_length=1, max_length=200)]


class AwaitCustomer(StrictModel):
    """The owner says the case waits on the customer (SLA clocks pause), or no longer."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"awaiting": True, "note": "Asked for the gateway logs"}]}
    )
    awaiting: bool = True
    note: OptionalLine = ""


class RecordSatisfaction(StrictModel):
    """Customer satisfaction, 1 to 5, by the owner or an integration (admin token)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"score": 5, "comment": "Fixed in an hour", "source": "survey"}]
        }
    )
    score: int = Field(ge=1, le=5, strict=True)
    comment: OptionalLine = ""
    source: OptionalName = "owner"


class CalendarIn(StrictModel):
    timezone: Name = "UTC"
    #: weekday -> [[start, end], ...] local wall-clock times; absent: around the clock
    weekly: dict[Weekday, Annotated[list[tuple[HHMM, HHMM]], Field(max_length=12)]] | None = None
    holidays: Annotated[
        list[Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")]], Field(max_length=400)
    ] = Field(default_factory=list)


class TargetIn(StrictModel):
    target: Literal["first_response", "next_response", "resolution"]
    minutes: int = Field(gt=0, le=10**6, strict=True)
    priority: Wildcard = "*"
    tier: Wildcard = "*"
    channel: Wildcard = "*"


class PolicyDocument(StrictModel):
    """An SLA policy: targets by priority, customer tier and channel, on a calendar."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "name": "Standard",
                    "warn_share": 0.8,
                    "calendar": {
                        "timezone": "Europe/Paris",
                        "weekly": {
                            d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")
                        },
                        "holidays": ["2026-12-25"],
                    },
                    "customer_tiers": {"Acme Corp": "gold"},
                    "targets": [
                        {"target": "first_response", "minutes": 60},
                        {"target": "first_response", "minutes": 15, "tier": "gold"},
                        {"target": "next_response", "minutes": 240},
                        {"target": "resolution", "minutes": 2400, "priority": "urgent"},
                    ],
                }
            ]
        },
    )
    name: Name
    active: bool = True
    warn_share: float = Field(default=0.8, gt=0, lt=1)
    calendar: CalendarIn = Field(default_factory=CalendarIn)
    customer_tiers: Annotated[dict[Name, Name], Field(max_length=10_000)] = Field(
        default_factory=dict
    )
    targets: Annotated[list[TargetIn], Field(min_length=1, max_length=LIST_MAX * 4)]


class PolicyAccepted(BaseModel):
    policy_id: UUID
    version: int
    position: int
