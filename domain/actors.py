"""Who is asking: the actor behind every command (taken from the bearer token)."""

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

__all__ = ["Actor", "Role"]


class Role(StrEnum):
    """Roles on tokens. There are no support tiers: any agent owns cases and swarms."""

    AGENT = "agent"
    SUPERVISOR = "supervisor"
    SERVICE = "service"
    ADMIN = "admin"


@dataclass(frozen=True)
class Actor:
    """An authenticated caller: its agent id, role and display name."""

    id: UUID
    role: Role
    name: str = ""

    @property
    def is_supervisor(self) -> bool:
        """Supervisors and admins hold supervisor rights on every case."""
        return self.role in (Role.SUPERVISOR, Role.ADMIN)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN
