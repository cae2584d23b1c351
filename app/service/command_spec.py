"""A declared command, as data (`Command`), what its decision receives (`Call`) and what
it answers (`Answer`); the table itself is `app.service.commands.COMMANDS`.

Targets: "case" (a decision on an existing case), "new_case" (an opener), "agent" (the
caller's profile), "article" (a decision on an existing article), "new_article" (an
article drafted from the case in the path), "policy" (a decision on an existing SLA
policy) and "new_policy" (a policy defined). `roles`, when given, admits only principals
with one of them (others: `NotPermitted`, before anything is read). `solved`, on a
"case" command: it is decided on a solved case by any caller who sees the case its body
names (`case_id`: the case it helped solve), not only by those who see the solved one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel

from domain.actors import Actor, Role
from domain.article import Article
from domain.case import Case
from domain.sla_policy import SlaPolicy


@dataclass(frozen=True, slots=True)
class Call:
    """What a decision receives besides the case and the actor."""

    body: Any  # the validated body model (or query model), None when none was sent
    ids: Mapping[str, UUID]  # path ids by name
    new_id: UUID  # the id of what the command creates (stable per idempotency key)


CaseDecision = Callable[[Case, Actor, Call], None]
Opener = Callable[[Actor, UUID, Call], Case]
ArticleDecision = Callable[[Article, Actor, Call], None]
PolicyOpener = Callable[[Actor, UUID, Call], SlaPolicy]
PolicyDecision = Callable[[SlaPolicy, Actor, Call], None]
Target = Literal["case", "new_case", "agent", "article", "new_article", "policy", "new_policy"]


@dataclass(frozen=True, slots=True)
class Command:
    """One declared command (see the module docstring)."""

    name: str  # the operation id
    method: str
    path: str  # path ids in braces: {case_id}, {proposal_id}
    summary: str
    result: type[BaseModel]
    target: Target = "case"
    decide: CaseDecision | None = None  # target "case"
    open: Opener | None = None  # target "new_case"
    article: ArticleDecision | None = None  # target "article"
    new_policy: PolicyOpener | None = None  # target "new_policy"
    policy: PolicyDecision | None = None  # target "policy"
    roles: tuple[Role, ...] = ()  # only these roles (empty: any role)
    solved: bool = False  # see the module docstring
    body: type[BaseModel] | None = None
    body_required: bool = True
    query: type[BaseModel] | None = None  # fields taken from the query string instead
    creates: str | None = None  # purpose of the new id; the result names it `{creates}_id`
    creates_field: str | None = None  # ... unless named here
    status_code: int = 200
    tag: str = "case commands"

    @property
    def id_names(self) -> tuple[str, ...]:
        return tuple(part[1:-1] for part in self.path.split("/") if part.startswith("{"))

    @property
    def result_id_field(self) -> str | None:
        """The result's member naming the id of what the command creates."""
        if self.creates is None or self.target != "case":
            return None
        return self.creates_field or f"{self.creates}_id"


@dataclass(frozen=True, slots=True)
class Answer:
    """A command's result model and, for a new case, its `Location`."""

    result: BaseModel
    location: str | None = None


NO_ID = UUID(int=0)  # `Call.new_id` of a command that creates nothing
