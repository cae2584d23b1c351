"""Response schemas of matching, for OpenAPI only (the routes answer JSON documents)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Factor(BaseModel):
    value: float  # in [0, 1]
    weight: float  # negative for factors that count against
    contribution: float  # weight * value


class Suggestion(BaseModel):
    rank: int
    agent_id: str
    name: str
    score: float  # the sum of the factors' contributions
    factors: dict[str, Factor]


class Excluded(BaseModel):
    agent_id: str
    reason: str  # owner | participant | invited | declined | at_capacity


class Cover(BaseModel):
    agent_ids: list[str]  # the fewest available agents covering every coverable skill
    uncovered: list[str]  # wanted skills no available agent has
    method: str  # exact | greedy


class Suggestions(BaseModel):
    case_id: str
    position: int
    at: str
    wanted: list[str]
    wanted_from: str  # swarm_request | product_area | none
    weights: dict[str, float]
    suggestions: list[Suggestion]
    excluded: list[Excluded]
    cover: Cover


class Reputation(BaseModel):
    points: float
    score: float


class AgentDetail(_Open):
    """The agent's profile document plus `contribution` and `reputation`."""

    agent_id: str
    name: str
    skills: dict[str, int]
    contribution: dict[str, Any]
    reputation: Reputation
