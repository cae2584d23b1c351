"""The one dependency every command route takes: caller, headers, services.

`Commander` bundles the authenticated principal (401 before anything else runs), the
validated `Idempotency-Key` and `If-Match` headers (422 when malformed) and the
application services, so each route stays: parse, one call, respond.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from app.agents import AgentService
from app.auth import Principal
from app.cases import CaseService
from app.command_context import IDEMPOTENCY_KEY_PATTERN, IF_MATCH_PATTERN, CommandContext
from app.command_setup import agent_service, case_service
from app.composition import Container
from app.deps import ContainerDep, PrincipalDep


@dataclass(frozen=True, slots=True)
class Commander:
    """What a command route needs; `context(body)` fingerprints the validated body."""

    method: str
    path: str
    principal: Principal
    container: Container
    idempotency_key: str | None
    if_match: str | None

    def context(self, body: BaseModel | dict[str, Any] | None = None) -> CommandContext:
        if isinstance(body, BaseModel):
            body = body.model_dump(mode="json")
        return CommandContext.of(
            self.principal,
            method=self.method,
            path=self.path,
            body=body,
            idempotency_key=self.idempotency_key,
            if_match=self.if_match,
        )

    @property
    def cases(self) -> CaseService:
        return case_service(self.container)

    @property
    def agents(self) -> AgentService:
        return agent_service(self.container)


#: Documents bearer auth in OpenAPI only; `PrincipalDep` does the real check (401).
BEARER = HTTPBearer(auto_error=False, description="`swarmdesk token SUBJECT --role ROLE`")


async def get_commander(
    request: Request,
    container: ContainerDep,
    principal: PrincipalDep,
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)],
    idempotency_key: Annotated[
        str,
        Header(
            alias="Idempotency-Key",
            pattern=IDEMPOTENCY_KEY_PATTERN,
            description="Retry-safe key (1-200 visible ASCII characters), scoped to the "
            "caller: the same key and body answer the first result again and append "
            "nothing; the same key with another body is a 422.",
            examples=["3f1e9a0c-retry-1"],
        ),
    ] = "",
    if_match: Annotated[
        str,
        Header(
            alias="If-Match",
            pattern=IF_MATCH_PATTERN,
            description='The version the caller expects (`3`, `"3"` or `W/"3"`); '
            "another current version is a 412.",
            examples=['"3"'],
        ),
    ] = "",
) -> Commander:
    return Commander(
        request.method, request.url.path, principal, container, idempotency_key, if_match
    )


CommanderDep = Annotated[Commander, Depends(get_commander)]
