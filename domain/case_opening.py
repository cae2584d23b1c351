"""The rules of opening a case: the ``Opened`` fields for ``Case.open``'s arguments."""

from typing import Any
from uuid import UUID

from domain.actors import Actor, Role
from domain.errors import NotAllowed
from domain.values import Channel, Priority, parse_enum, require_text

__all__ = ["check_open"]


def check_open(
    actor: Actor,
    case_id: UUID | None,
    customer: str,
    subject: str,
    customer_contact: str,
    description: str,
    product_area: str,
    priority: Priority | str,
    channel: Channel | str,
) -> dict[str, Any]:
    """A service cannot own a case; customer and subject must not be empty; texts are
    stripped; priority and channel are parsed (``InvalidInput`` when unknown)."""
    if actor.role is Role.SERVICE:
        raise NotAllowed("a service cannot own a case", case_id=case_id, actor_id=actor.id)
    ids: dict[str, Any] = {"case_id": case_id, "actor_id": actor.id}
    return {
        "owner_id": actor.id,
        "owner_name": actor.name.strip(),
        "customer": require_text(customer, "customer", **ids),
        "customer_contact": customer_contact.strip(),
        "subject": require_text(subject, "subject", **ids),
        "description": description.strip(),
        "product_area": product_area.strip(),
        "priority": parse_enum(Priority, priority, "priority", **ids).value,
        "channel": parse_enum(Channel, channel, "channel", **ids).value,
    }
