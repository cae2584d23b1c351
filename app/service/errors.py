"""Errors of the application layer, free of HTTP: what a caller did that the services
refuse, before or besides the domain's own rules.

Map of the tree (the one table in `app.http.problems` maps each to an HTTP status, a
problem type and a WebSocket close code, along the exception's MRO):

    ApplicationError
    ├── NotPermitted                 the caller's role may not do this
    │   └── ServiceTokensCannotCommand   service tokens follow the stream, never command
    ├── CaseNotFound                 no such case, or one the caller may not see
    ├── PolicyNotFound               no such SLA policy
    ├── VersionMismatch              `If-Match` names another version than the current
    ├── ViewBehind                   the read models have not reached a position in time
    ├── CommandTimedOut              a command could not complete within its deadline
    └── InvalidParameter             a parameter the schema could not refuse (sockets)

Every error carries the ids involved in `extra`; they become problem members.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID


class ApplicationError(Exception):
    """A refusal by the application layer; `extra` holds the ids involved."""

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotPermitted(ApplicationError):
    """The caller's role does not permit this."""


class ServiceTokensCannotCommand(NotPermitted):
    def __init__(self, role: str) -> None:
        super().__init__(
            "service tokens cannot issue commands; use an agent, supervisor or admin token",
            role=role,
        )


class CaseNotFound(ApplicationError):
    """No such case, or none the caller may see (strangers learn nothing more)."""

    def __init__(self, case_id: UUID | str, detail: str = "") -> None:
        super().__init__(detail or f"no case {case_id}", case_id=str(case_id))
        self.case_id = str(case_id)


class PolicyNotFound(ApplicationError):
    def __init__(self, policy_id: UUID | str) -> None:
        super().__init__(f"no SLA policy {policy_id}", policy_id=str(policy_id))


class VersionMismatch(ApplicationError):
    """`If-Match` named `expected`; the stream is at `current`."""

    def __init__(self, stream: str, stream_id: UUID, expected: int, current: int) -> None:
        super().__init__(
            f"If-Match names version {expected}; {stream} {stream_id} is at version {current}",
            **{f"{stream}_id": str(stream_id)},
            current_version=current,
        )
        self.current_version = current


class ViewBehind(ApplicationError):
    """The read models did not reach `min_position` within `waited` seconds."""

    def __init__(self, min_position: int, waited: float) -> None:
        super().__init__(
            f"the views have not reached position {min_position} within {waited:g} s; retry",
            min_position=min_position,
        )


class CommandTimedOut(ApplicationError):
    """The command did not complete within `deadline` seconds (the store is slow or
    unreachable). Whether it was committed is unknown: retry it with the same
    Idempotency-Key, which answers its first result if it was."""

    def __init__(self, command: str, deadline: float) -> None:
        super().__init__(
            f"{command} did not complete within {deadline:g} s; retry with the same "
            "Idempotency-Key",
            deadline_seconds=deadline,
        )


class InvalidParameter(ApplicationError):
    """A request parameter is malformed (where no schema validated it)."""
