"""Rows derived from a case document: its summary, its members, its open swarm requests.

Derived from the final document of a batch (not from ops), so they can never disagree
with the case view; rewritten for every case a batch touched (members only when they
changed: `ViewSet.members_kept`).
"""

from __future__ import annotations

from typing import Any

import orjson

from projections.envelope import Doc


def summary_row(doc: Doc) -> dict[str, Any]:
    return {
        "case_id": doc["case_id"],
        "owner_id": doc["owner"]["id"],
        "status": doc["status"],
        "priority": doc["priority"],
        "subject": doc["problem"]["subject"],
        "customer": doc["customer"]["name"],
        "opened_at": doc["opened_at"],
        "updated_at": doc["updated_at"],
        "version": doc["version"],
        "position": doc["position"],
        "opened_position": doc["opened_position"],
    }


def relations(doc: Doc) -> dict[str, str]:
    """agent id -> "owner"; "participant": joined and not left; "invited": a pending
    invitation."""
    owner = doc["owner"]["id"]
    found: dict[str, str] = {owner: "owner"}
    for agent, p in doc["participants"].items():
        if p["left_at"] is None:
            found.setdefault(agent, "participant")
    for inv in doc["invitations"].values():
        if inv["status"] == "pending":
            found.setdefault(inv["expert_id"], "invited")
    return found


def member_rows(doc: Doc) -> list[dict[str, Any]]:
    """The `case_members` rows of a case (`relations`)."""
    case_id, opened = doc["case_id"], doc["opened_position"]
    return [
        {"agent_id": a, "case_id": case_id, "relation": r, "opened_position": opened}
        for a, r in relations(doc).items()
    ]


#: `swarm_urgency` (raised as an SLA deadline nears) -> how far up the board it moves
URGENCY_RANKS = {"high": 1, "critical": 2}


def board_rank(doc: Doc) -> int:
    """The board's sort key: the urgency time pressure raised, then the position."""
    return (URGENCY_RANKS.get(doc.get("swarm_urgency") or "", 0) << 40) + int(doc["position"])


def board_entries(doc: Doc) -> list[Doc]:
    """The board's entry of each open swarm request of an open case (fresh dicts; what
    `board_rows` stores and `/ws/swarms` pushes)."""
    if doc["status"] != "open":
        return []
    entries = []
    for req in doc["swarm_requests"].values():
        if req["status"] != "open":
            continue
        entries.append(
            {
                **req,
                "skills_wanted": list(req["skills_wanted"]),
                "case_id": doc["case_id"],
                "subject": doc["problem"]["subject"],
                "priority": doc["priority"],
                "product_area": doc["product_area"],
                "owner": dict(doc["owner"]),
                "participants": sum(
                    1 for p in doc["participants"].values() if p["left_at"] is None
                ),
                "swarm_urgency": doc.get("swarm_urgency"),
            }
        )
    return entries


def board_rows(doc: Doc) -> list[dict[str, Any]]:
    """One row per open swarm request of an open case (the swarm board), ranked by
    `board_rank`."""
    return [
        {
            "request_id": entry["id"],
            "case_id": doc["case_id"],
            "position": doc["position"],
            "doc": orjson.dumps(entry).decode(),  # `projections.fold.dumps`
            "rank": board_rank(doc),
        }
        for entry in board_entries(doc)
    ]
