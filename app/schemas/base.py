"""Shared building blocks of the request models: strictness, text limits, id lists.

Contract: every request model extends `StrictModel` (unknown fields are refused, strings
are stripped before their length is checked) and bounds every string and list, so any
accepted body is small and well-formed before it reaches the domain.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

#: Display names, customer names, skills, product areas.
NAME_MAX = 200
#: One-line statements: subjects, reasons, notes, help needed, summaries.
LINE_MAX = 2_000
#: Free text: descriptions, context, messages, insights.
TEXT_MAX = 10_000
#: Entries in any list (skills, steps, cited or mentioned ids).
LIST_MAX = 50

Name = Annotated[str, Field(min_length=1, max_length=NAME_MAX)]
OptionalName = Annotated[str, Field(max_length=NAME_MAX)]
Line = Annotated[str, Field(min_length=1, max_length=LINE_MAX)]
OptionalLine = Annotated[str, Field(max_length=LINE_MAX)]
Text = Annotated[str, Field(min_length=1, max_length=TEXT_MAX)]
OptionalText = Annotated[str, Field(max_length=TEXT_MAX)]
IdList = Annotated[list[UUID], Field(max_length=LIST_MAX)]
NameList = Annotated[list[Name], Field(max_length=LIST_MAX)]


class StrictModel(BaseModel):
    """Unknown fields are a 422; strings are stripped, then length-checked."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


#: The largest log position (PostgreSQL BIGINT) and stream version (INTEGER): every
#: numeric parameter naming one is bounded by them, so a larger one is a 422, never an
#: overflow in the database.
MAX_POSITION = 2**63 - 1
MAX_VERSION = 2**31 - 1


def parse_position(text: str) -> int | None:
    """A position given as text (query string, `Last-Event-ID`), or None when it is not
    a whole number from 0 to `MAX_POSITION`."""
    text = text.strip()
    if not text.isdigit() or len(text) > 19:
        return None
    value = int(text)
    return value if value <= MAX_POSITION else None
