"""Knowledge from a swarm: an article's text built from a case's events, sentence by
sentence, each sentence keeping where it came from; and edits that keep it.

``compose(events)`` reads a resolved case's events (``domain.case_events`` instances, in
version order) and builds the KCS sections:

- ``problem``: the case's subject and description (``Opened``) and its symptoms
  (``ContextAdded`` of kind symptom);
- ``environment``: the product area (``Opened``) and the environment context;
- ``cause``: the insights the accepted proposal cites (``InsightPosted``), in the order
  it cites them;
- ``resolution``: the accepted proposal's summary and its steps (``ResolutionProposed``).

``revise(old, new_texts, source)`` takes the edited text of some sections and keeps the
source of every sentence that survives unchanged (a sentence-level diff, ``difflib``);
a new sentence gets ``source`` (the edit's) and, when it rewrites an old one closely
enough (``REWRITE_RATIO``), ``"was"`` names the old sentence's source.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from domain import case_events as ev

__all__ = [
    "SECTIONS",
    "Composed",
    "compose",
    "revise",
    "sentences",
    "source_of",
]

SECTIONS = ("problem", "environment", "cause", "resolution")
REWRITE_RATIO = 0.6
# a sentence ends at . ! ? followed by space, at the ideographic full stop or full-width
# ! ? (no space follows them), or at a line end
_SPLIT = re.compile(r"(?<=[.!?])\s+|(?<=[\u3002\uff01\uff1f])\s*|\s*\n+\s*")

Sentence = dict[str, Any]
Sections = dict[str, list[Sentence]]


def sentences(text: str) -> list[str]:
    """``text`` split into its sentences (stripped, empties dropped)."""
    return [part.strip() for part in _SPLIT.split(text) if part and part.strip()]


def source_of(event: Any, author_id: UUID) -> dict[str, Any]:
    """The provenance of text taken from a stored event."""
    return {
        "event": type(event).__name__,
        "stream_id": str(event.originator_id),
        "version": int(event.originator_version),
        "author_id": str(author_id),
        "at": event.timestamp.isoformat(),
    }


def _from(text: str, source: dict[str, Any]) -> list[Sentence]:
    return [{"text": s, "source": source} for s in sentences(text)]


@dataclass(frozen=True, slots=True)
class Composed:
    """What a case's events give an article."""

    case_id: UUID
    owner_id: UUID
    title: str
    product_area: str
    status: str  # "open", "resolved" or "closed", as the events leave it
    proposal_id: UUID | None  # the accepted proposal the resolution cites
    sections: Sections


def compose(events: Sequence[Any]) -> Composed:
    """The article text of a case (see the module docstring); ``status`` and
    ``proposal_id`` let the caller refuse a case that is not resolved citing a proposal."""
    opened = events[0]
    if not isinstance(opened, ev.Opened):
        raise ValueError("a case's first event is Opened")
    owner = opened.owner_id
    status, proposal_id = "open", None
    context: list[ev.ContextAdded] = []
    insights: dict[UUID, ev.InsightPosted] = {}
    proposals: dict[UUID, ev.ResolutionProposed] = {}
    for e in events[1:]:
        if isinstance(e, ev.ContextAdded):
            context.append(e)
        elif isinstance(e, ev.InsightPosted):
            insights[e.insight_id] = e
        elif isinstance(e, ev.ResolutionProposed):
            proposals[e.proposal_id] = e
        elif isinstance(e, ev.Resolved):
            status, proposal_id = "resolved", e.proposal_id
        elif isinstance(e, ev.Reopened):
            status, proposal_id = "open", None
        elif isinstance(e, ev.Closed):
            status = "closed"
        elif isinstance(e, ev.OwnershipTransferred):
            owner = e.to_owner_id
    opened_source = source_of(opened, opened.owner_id)
    problem = _from(opened.subject, opened_source) + _from(opened.description, opened_source)
    environment: list[Sentence] = []
    if opened.product_area:
        environment += _from(f"Product area: {opened.product_area}.", opened_source)
    for c in context:
        target = {"symptom": problem, "environment": environment}.get(c.kind)
        if target is not None:
            target += _from(c.text, source_of(c, c.author_id))
    cause: list[Sentence] = []
    resolution: list[Sentence] = []
    proposal = proposals.get(proposal_id) if proposal_id is not None else None
    if proposal is not None:
        for insight_id in proposal.cites:
            insight = insights.get(insight_id)
            if insight is not None:
                cause += _from(insight.text, source_of(insight, insight.author_id))
        proposal_source = source_of(proposal, proposal.author_id)
        resolution += _from(proposal.summary, proposal_source)
        for step in proposal.steps:
            resolution += _from(step, proposal_source)
    return Composed(
        case_id=UUID(str(opened.originator_id)),  # a plain UUID, whatever the store gave
        owner_id=owner,
        title=opened.subject.strip(),
        product_area=opened.product_area,
        status=status,
        proposal_id=proposal_id,
        sections={
            "problem": problem,
            "environment": environment,
            "cause": cause,
            "resolution": resolution,
        },
    )


def revise(
    old: Mapping[str, Sequence[Sentence]],
    new_texts: Mapping[str, str],
    source: dict[str, Any],
) -> Sections:
    """Every section of ``old``, with those named in ``new_texts`` replaced by their new
    text: unchanged sentences keep their source, the others get ``source``."""
    out: Sections = {name: [dict(s) for s in old.get(name, ())] for name in SECTIONS}
    for name, text in new_texts.items():
        out[name] = _revise_section(list(old.get(name, ())), sentences(text), source)
    return out


def _revise_section(old: list[Sentence], new: list[str], source: dict[str, Any]) -> list[Sentence]:
    before = [s["text"] for s in old]
    matcher = difflib.SequenceMatcher(None, before, new, autojunk=False)
    out: list[Sentence] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out += [dict(s) for s in old[i1:i2]]
            continue
        for text in new[j1:j2]:
            written: dict[str, Any] = dict(source)
            was = _closest(text, old[i1:i2]) if tag == "replace" else None
            if was is not None:
                written["was"] = was
            out.append({"text": text, "source": written})
    return out


def _closest(text: str, candidates: Iterable[Sentence]) -> dict[str, Any] | None:
    """The source of the candidate ``text`` rewrites, if one is close enough."""
    best, best_ratio = None, REWRITE_RATIO
    for candidate in candidates:
        ratio = difflib.SequenceMatcher(None, candidate["text"], text).ratio()
        if ratio >= best_ratio:
            best, best_ratio = candidate, ratio
    if best is None:
        return None
    found: dict[str, Any] = best["source"]
    return found.get("was", found) if found.get("event") == "Edited" else found
