"""Request body of `PUT /api/agents/me`: the caller's own profile."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field

from app.schemas.base import LIST_MAX, Name, NameList, StrictModel
from domain.agent import MAX_CAPACITY, MAX_SKILL_LEVEL, MIN_SKILL_LEVEL
from domain.values import Availability

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
