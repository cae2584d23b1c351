"""What every command carries besides its body: who asks, its idempotency key and
request fingerprint, and the `If-Match` precondition.

Contract:
- an idempotency key is scoped to the caller (`"{subject}:{key}"`), so two callers can
  never replay (or collide with) each other's commands;
- the fingerprint is a digest of method, path and the validated, canonical body: the same
  key with a different fingerprint is refused (422) by `Repository.replay`;
- ids the server chooses for new things (cases, insights, proposals, ...) derive from the
  scoped key when there is one (uuid5), so a retried command names the same ids; without a
  key they are random (uuid4);
- `If-Match` accepts `3`, `"3"` and `W/"3"`; anything else is a 422 (header validation);
  an empty header is the same as none.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from app.auth.tokens import Principal
from app.service.errors import ServiceTokensCannotCommand
from app.store import request_hash
from domain.actors import Role

#: Namespace of ids derived from idempotency keys. Never change it.
KEY_NAMESPACE = UUID("3f1d2b6e-8a47-4c5e-b9d0-7e2f4a6c1b58")
# Both headers are optional; an empty value means "not given" (the OpenAPI schema then
# has no `null`, which no HTTP header can carry).
IF_MATCH_PATTERN = r'^((W/)?("[0-9]{1,9}"|[0-9]{1,9}))?$'
IDEMPOTENCY_KEY_PATTERN = r"^[!-~]{0,200}$"
_DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True, slots=True)
class CommandContext:
    """A command's caller, scoped idempotency key, fingerprint and expected version."""

    principal: Principal
    idempotency_key: str | None = None
    fingerprint: str = ""
    if_match: int | None = None

    @classmethod
    def of(
        cls,
        principal: Principal,
        *,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        idempotency_key: str | None = None,
        if_match: str | None = None,
    ) -> CommandContext:
        key = f"{principal.subject}:{idempotency_key}" if idempotency_key else None
        if_match = if_match or None
        return cls(
            principal=principal,
            idempotency_key=key,
            fingerprint=request_hash(method.upper(), path, body),
            if_match=parse_if_match(if_match),
        )

    def new_id(self, purpose: str) -> UUID:
        """A server-chosen id: stable per idempotency key and purpose, else random."""
        if self.idempotency_key is None:
            return uuid.uuid4()
        return uuid.uuid5(KEY_NAMESPACE, f"{purpose}:{self.idempotency_key}")

    def refuse_service(self) -> None:
        """Service tokens follow the stream; they never act on cases or profiles."""
        if self.principal.role is Role.SERVICE:
            raise ServiceTokensCannotCommand(self.principal.role.value)


def parse_if_match(value: str | None) -> int | None:
    """`3`, `"3"`, `W/"3"` -> 3; None -> None. The route's header pattern has already
    refused anything else, so this only extracts the digits."""
    if value is None:
        return None
    found = _DIGITS.search(value)
    if found is None:  # unreachable behind the header pattern; refuse rather than guess
        raise ValueError(f"If-Match {value!r} is not a version")
    return int(found.group())
