"""The e-mail of a notification: a plain-text message with the deep link."""

from __future__ import annotations

import json
from email.message import EmailMessage

SUBJECTS = {
    "invitation": "You are invited to help on: {subject}",
    "mention": "You were mentioned on: {subject}",
    "invitation_declined": "An expert declined your invitation on: {subject}",
    "invitation_expired": "An invitation expired unanswered on: {subject}",
    "proposal_decided": "Your proposal was {decision} on: {subject}",
}


def compose(message_id: str, payload: str, sender: str, to: str) -> EmailMessage:
    """The message for a delivery (`payload`: the notification's JSON document)."""
    body = json.loads(payload)
    kind = body["type"].removeprefix("swarmdesk.")
    fields = {"subject": body["subject"], "decision": body["data"].get("decision", "")}
    msg = EmailMessage()
    msg["Subject"] = SUBJECTS.get(kind, "Swarmdesk: {subject}").format(**fields)
    msg["From"] = sender
    msg["To"] = to
    msg["Message-ID"] = f"<{message_id}@swarmdesk>"
    lines = [msg["Subject"], "", f"Open the case: {body['link']}", ""]
    lines += [f"{k}: {v}" for k, v in body["data"].items() if v]
    msg.set_content("\n".join(lines) + "\n")
    return msg
