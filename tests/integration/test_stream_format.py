"""The CloudEvents format: every event type, fast path equal to the mapper's path, and
every envelope valid against the schema the AsyncAPI document publishes."""

from __future__ import annotations

from uuid import UUID, uuid4

import jsonschema
import pytest
from eventsourcing.persistence import Mapper

from app.realtime.stream.catalog import known_topics, topic_info
from app.realtime.stream.cloudevents import CloudEventEncoder
from app.realtime.stream.filters import parse_filter
from app.realtime.stream.models import CloudEvent, event_message_model, json_schema, message_models
from app.service.errors import InvalidParameter
from app.store import RecordedEvent
from app.store.codec import create_mapper, decode, event_data
from tests.stream_scenario import agent_story, case_story


def recorded(mapper: Mapper[UUID]) -> list[RecordedEvent]:
    events = [*case_story().collect_events(), *agent_story().collect_events()]
    rows = []
    for position, event in enumerate(events, start=1):
        stored = mapper.to_stored_event(event)
        rows.append(
            RecordedEvent(
                position,
                uuid4(),
                UUID(str(stored.originator_id)),
                stored.originator_version,
                stored.topic,
                stored.state,
            )
        )
    return rows


def test_every_declared_event_type_is_produced_by_the_scenario() -> None:
    rows = recorded(create_mapper())
    assert {r.topic for r in rows} == {info.topic for info in known_topics()}
    assert len(known_topics()) == 20


def test_envelope_attributes_and_naming() -> None:
    mapper = create_mapper()
    encoder = CloudEventEncoder(mapper)
    for row in recorded(mapper):
        envelope = encoder.envelope(row)
        event = decode(mapper, row)
        assert list(envelope) == list(CloudEvent.model_fields)
        assert envelope["id"] == str(row.event_id)
        assert envelope["position"] == row.position
        assert envelope["caseversion"] == row.originator_version
        assert envelope["subject"] == type(event).__name__
        assert envelope["time"] == getattr(event, "timestamp").isoformat()  # noqa: B009
        kind = "agent" if row.topic.startswith("domain.agent:") else "case"
        assert envelope["source"] == f"/swarmdesk/{kind}s/{row.originator_id}"
    info = topic_info("domain.case:Case.InsightPosted")
    assert info.type == "io.swarmdesk.case.insight_posted.v1"
    assert topic_info("domain.agent:Agent.ProfileUpdated").type == (
        "io.swarmdesk.agent.profile_updated.v1"
    )


def test_fast_path_equals_the_mapper_path_for_every_type() -> None:
    mapper = create_mapper()
    encoder = CloudEventEncoder(mapper)
    for row in recorded(mapper):
        data, time = encoder.data_and_time(row)
        event = decode(mapper, row)
        assert data == event_data(event), row.topic
        assert time == getattr(event, "timestamp").isoformat()  # noqa: B009


def test_every_envelope_validates_against_its_published_schema() -> None:
    mapper = create_mapper()
    encoder = CloudEventEncoder(mapper)
    models = message_models()
    for row in recorded(mapper):
        envelope = encoder.envelope(row)
        model = models[envelope["subject"]]
        model.model_validate(envelope)
        jsonschema.Draft7Validator(json_schema(model)).validate(envelope)
    # and the schemas can fail: a wrong type or an extra data field is refused
    row = recorded(mapper)[0]
    envelope = encoder.envelope(row)
    schema = json_schema(event_message_model(topic_info(row.topic)))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**envelope, "type": "io.swarmdesk.case.closed.v1"}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**envelope, "data": {**envelope["data"], "x": 1}}, schema)


def test_filters_accept_types_names_and_snake_case() -> None:
    flt = parse_filter(["io.swarmdesk.case.insight_posted.v1,Closed", "expert_joined"], None)
    assert flt.topics == {
        "domain.case:Case.InsightPosted",
        "domain.case:Case.Closed",
        "domain.case:Case.ExpertJoined",
    }
    case = uuid4()
    assert parse_filter(None, str(case)).originator_id == case
    assert not parse_filter(None, None).active
    with pytest.raises(InvalidParameter, match="unknown event type"):
        parse_filter(["io.swarmdesk.case.insight_posted.v2"], None)
    with pytest.raises(InvalidParameter, match="UUID"):
        parse_filter(None, "not-a-uuid")
