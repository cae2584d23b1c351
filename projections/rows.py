"""Rows derived from a case document: its summary, its members, its open swarm requests.

Derived from the final document of a batch (not from ops), so they can never disagree
with the case view; rewritten for every case a batch touched (members only when they
changed: `ViewSet.members_kept`).
"""

from __future__ import annotations

from typing import Any

import orjson

from projections.envelope import Doc


def dumps(value: Any) -> str:
    """The stored JSON text of a row's document (as `projections.fold.dumps`)."""
    return orjson.dumps(value).decode()


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


def member_rows(doc: Doc) -> list[dict[str, Any]]:
    """owner; "participant": joined and not left; "invited": a pending invitation."""
    case_id, opened = doc["case_id"], doc["opened_position"]
    owner = doc["owner"]["id"]
    relations: dict[str, str] = {owner: "owner"}
    for agent, p in doc["participants"].items():
        if p["left_at"] is None:
            relations.setdefault(agent, "participant")
    for inv in doc["invitations"].values():
        if inv["status"] == "pending":
            relations.setdefault(inv["expert_id"], "invited")
    return [
        {"agent_id": a, "case_id": case_id, "relation": r, "opened_position": opened}
        for a, r in relations.items()
    ]


#: `swarm_urgency` (raised as an SLA deadline nears) -> how far up the board it moves
URGENCY_RANKS = {"high": 1, "critical": 2}


def board_rank(doc: Doc) -> int:
    """The board's sort key: the urgency time pressure raised, then the position."""
    return (URGENCY_RANKS.get(doc.get("swarm_urgency") or "", 0) << 40) + int(doc["position"])


def board_rows(doc: Doc) -> list[dict[str, Any]]:
    """One row per open swarm request of an open case (the swarm board), ranked by
    `board_rank`."""
    if doc["status"] != "open":
        return []
    rows = []
    for req in doc["swarm_requests"].values():
        if req["status"] != "open":
            continue
        entry = {
            **req,
            "case_id": doc["case_id"],
            "subject": doc["problem"]["subject"],
            "priority": doc["priority"],
            "product_area": doc["product_area"],
            "owner": doc["owner"],
            "participants": sum(1 for p in doc["participants"].values() if p["left_at"] is None),
            "swarm_urgency": doc.get("swarm_urgency"),
        }
        rows.append(
            {
                "request_id": req["id"],
                "case_id": doc["case_id"],
                "position": doc["position"],
                "doc": dumps(entry),
                "rank": board_rank(doc),
            }
        )
    return rows
