"""The replay decoder (orjson fast path) gives the same domain events as app.store.codec."""

from __future__ import annotations

import uuid

import pytest

from app.store import EventStore
from app.store.codec import decode
from app.store.errors import EventDecodeError
from app.store.replay_codec import replay_decoder
from app.store.types import RecordedEvent
from tests.views_support import MAPPER, actor, agent, append, briefing_case


@pytest.mark.parametrize("uuid_cache", [100_000, 2], ids=["rebuild-cache", "cache-of-two"])
async def test_same_events_as_the_standard_decoder(store: EventStore, uuid_cache: int) -> None:
    owner, expert, other = actor("Ölga \u2603"), actor("Ed"), actor("Otto")
    case = briefing_case(owner, expert, other)
    second = uuid.uuid4()
    case.propose_resolution(expert, proposal_id=second, summary="restart", steps=["é"])
    case.reject_proposal(owner, proposal_id=second, reason='no\n"quote"')
    case.resolve(owner, summary="done")
    case.reopen(owner, reason="again")
    case.transfer_ownership(owner, to_owner_id=expert.id, handoff_note="yours")
    case.change_priority(expert, priority="urgent", reason="vip")
    case.close(expert, note="bye")
    await append(store, case)
    await append(store, agent("Ada"))
    rows = await store.read(0, 1000)
    assert len(rows) > 15
    fast = replay_decoder(uuid_cache)  # a cache of two starts again many times
    for row in rows:
        a, b = fast(row), decode(MAPPER, row)
        assert type(a) is type(b)
        assert vars(a) == vars(b)
        assert [type(v) for v in vars(a).values()] == [type(v) for v in vars(b).values()]


def test_a_corrupt_row_raises_the_named_decode_error() -> None:
    row = RecordedEvent(7, uuid.uuid4(), uuid.uuid4(), 1, "domain.case:Case.Opened", b"{not json")
    with pytest.raises(EventDecodeError):
        replay_decoder()(row)
