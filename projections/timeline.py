"""The short timeline line every case event adds to the case view."""

from __future__ import annotations

from projections.envelope import Doc, Envelope, s

SHORT = 140


def _short(text: str) -> str:
    return text if len(text) <= SHORT else text[: SHORT - 1] + "…"


_BY = {
    "Opened": "owner_id",
    "ContextAdded": "author_id",
    "CustomerMessageLogged": "author_id",
    "SwarmRequested": "requested_by",
    "ExpertInvited": "invited_by",
    "InvitationDeclined": "expert_id",
    "InvitationExpired": "expert_id",
    "ExpertJoined": "expert_id",
    "ExpertLeft": "expert_id",
    "BriefingAcknowledged": "participant_id",
    "InsightPosted": "author_id",
    "ResolutionProposed": "author_id",
    "ProposalAccepted": "decided_by",
    "ProposalRejected": "decided_by",
    "Resolved": "resolved_by",
    "Reopened": "reopened_by",
    "Closed": "closed_by",
    "OwnershipTransferred": "transferred_by",
    "PriorityChanged": "changed_by",
    "SolutionReused": "reused_by",
    "AwaitingCustomer": "set_by",
    "SatisfactionRecorded": "recorded_by",
}
_TEXT = ("subject", "text", "help_needed", "reason", "summary", "note", "handoff_note", "priority")


def timeline_entry(env: Envelope) -> Doc:
    """The short timeline line of any case event."""
    e = env.event
    text: object = ""
    fields = getattr(e, "__dict__", None)
    if fields is not None and _plain(type(e)):  # the same lookups, without raising
        for name in _TEXT:  # the first non-empty one
            value = fields.get(name, "")
            if value:
                text = value
                break
        by = fields.get(_BY.get(env.name, ""))
    else:
        for name in _TEXT:
            value = getattr(e, name, "")
            if value:
                text = value
                break
        by = getattr(e, _BY.get(env.name, ""), None)
    return {
        "version": env.version,
        "position": env.position,
        "at": env.at,
        "type": env.name,
        "by": s(by),
        "text": _short(str(text)),
    }


_PLAIN: dict[type, bool] = {}


def _plain(cls: type) -> bool:
    """True when `getattr(event, name, default)` is `event.__dict__.get(name, default)`
    for every name read here: no class attribute, property or `__getattr__` of those
    (an event's fields are its own; a stored older version may add keys there)."""
    found = _PLAIN.get(cls)
    if found is None:
        found = (
            getattr(cls, "__getattribute__", None) is object.__getattribute__
            and not hasattr(cls, "__getattr__")
            and not any(hasattr(cls, name) for name in (*_TEXT, *_BY.values(), ""))
        )
        _PLAIN[cls] = found
    return found
