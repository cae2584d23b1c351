"""Request body of `PUT /api/agents/me`: the caller's own profile."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from app.schemas.base import LIST_MAX, Name, NameList, StrictModel
from domain.agent import MAX_CAPACITY, MAX_SKILL_LEVEL, MIN_SKILL_LEVEL
from domain.values import Availability

Span = Annotated[str, Field(max_length=11, pattern=r"^$|^\d\d:\d\d-\d\d:\d\d$")]
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
SkillLevel = Annotated[int, Field(ge=MIN_SKILL_LEVEL, le=MAX_SKILL_LEVEL, strict=True)]


class AgentProfile(StrictModel):
    """The caller's profile. A field left out keeps its current value (on the first PUT:
    name from the token, no skills or interests, `UTC`, `available`, capacity 3)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Bea Expert",
                    "skills": {"payments": 5, "3ds": 4},
                    "interests": ["fraud"],
                    "timezone": "Europe/Paris",
                    "availability": "available",
                    "capacity": 3,
                    "working_hours": "09:00-17:30",
                    "working_days": ["mon", "tue", "wed", "thu", "fri"],
                    "quiet_hours": "21:00-07:00",
                    "email": "bea@example.com",
                    "channels": ["email"],
                }
            ]
        }
    )
    name: Name | None = None
    skills: Annotated[dict[Name, SkillLevel], Field(max_length=LIST_MAX)] | None = None
    interests: NameList | None = None
    timezone: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    availability: Availability | None = None
    capacity: Annotated[int, Field(ge=0, le=MAX_CAPACITY, strict=True)] | None = None
    working_hours: Span | None = Field(
        default=None, description='local "HH:MM-HH:MM" (may cross midnight); "": any time'
    )
    working_days: list[Day] | None = Field(default=None, max_length=7)
    quiet_hours: Span | None = Field(
        default=None, description='local "HH:MM-HH:MM": e-mail and webhooks wait; "": none'
    )
    email: Annotated[str, Field(max_length=254)] | None = None
    channels: list[Literal["email", "webhook"]] | None = Field(
        default=None, max_length=2, description="outbound notifications (the inbox is always on)"
    )
