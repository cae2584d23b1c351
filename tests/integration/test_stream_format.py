"""The CloudEvents format: every event type, fast path equal to the mapper's path, and
every envelope valid against the schema the AsyncAPI document publishes."""

from __future__ import annotations

import dataclasses
from urllib.parse import urlparse
from uuid import UUID, uuid4

import jsonschema
import orjson
import pytest
from cloudevents.http import from_json
from eventsourcing.persistence import Mapper

from app.realtime.stream.catalog import known_topics, topic_info
from app.realtime.stream.cloudevents import NOT_DATA, CloudEventEncoder
from app.realtime.stream.filters import parse_filter
from app.realtime.stream.models import CloudEvent, event_message_model, json_schema, message_models
from app.service.errors import InvalidParameter
from app.store import RecordedEvent
from app.store.codec import create_mapper, decode, event_data
from tests.stream_scenario import agent_story, article_story, case_story, outcome_story


def recorded(mapper: Mapper[UUID]) -> list[RecordedEvent]:
    events = [
        *case_story().collect_events(),
        *outcome_story().collect_events(),
        *agent_story().collect_events(),
        *article_story().collect_events(),
    ]
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
    assert len(known_topics()) == 37


def test_envelope_attributes_and_naming() -> None:
    mapper = create_mapper()
    encoder = CloudEventEncoder(mapper)
    for row in recorded(mapper):
        envelope = encoder.envelope(row)
        event = decode(mapper, row)
        assert [*envelope, "traceparent"] == list(CloudEvent.model_fields)  # traces off
        assert envelope["id"] == str(row.event_id)
        assert envelope["position"] == str(row.position)
        assert envelope["caseversion"] == row.originator_version
        assert envelope["subject"] == str(row.originator_id)
        assert envelope["time"] == getattr(event, "timestamp").isoformat()  # noqa: B009
        kind = row.topic.partition(":")[0].removeprefix("domain.")
        assert envelope["source"] == f"/swarmdesk/{kind}s/{row.originator_id}"
        name = type(event).__name__
        assert envelope["dataschema"] == (
            f"http://127.0.0.1:8000/asyncapi.json#/components/schemas/{name}Data"
        )
        assert "originator_topic" not in envelope["data"]
        assert "timestamp" not in envelope["data"]
    info = topic_info("domain.case:Case.InsightPosted")
    assert info.type == "io.swarmdesk.case.insight_posted.v1"
    assert topic_info("domain.agent:Agent.ProfileUpdated").type == (
        "io.swarmdesk.agent.profile_updated.v2"
    )


def test_fast_path_equals_the_mapper_path_for_every_type() -> None:
    mapper = create_mapper()
    encoder = CloudEventEncoder(mapper)
    for row in recorded(mapper):
        data, time = encoder.data_and_time(row)
        event = decode(mapper, row)
        assert data == event_data(event), row.topic
        assert encoder.envelope(row)["data"] == {
            k: v for k, v in event_data(event).items() if k not in NOT_DATA
        }
        assert time == getattr(event, "timestamp").isoformat()  # noqa: B009


def test_every_envelope_validates_against_its_published_schema() -> None:
    mapper = create_mapper()
    encoder = CloudEventEncoder(mapper)
    models = message_models()
    for row in recorded(mapper):
        envelope = encoder.envelope(row)
        model = models[topic_info(row.topic).name]
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


_INT32 = range(-(2**31), 2**31)


def test_the_cloudevents_sdk_reads_every_event_type_as_the_spec_means_it() -> None:
    mapper = create_mapper()
    encoder = CloudEventEncoder(mapper, "https://desk.example")
    rows = recorded(mapper)
    big = dataclasses.replace(rows[0], position=2**40)  # a position past 32 bits
    for row in [*rows, big]:
        raw = encoder.encode(row)
        event = from_json(raw)  # the SDK: required attributes, spec version
        attributes = event.get_attributes()
        assert attributes["specversion"] == "1.0"
        assert attributes["subject"] == str(row.originator_id)
        assert attributes["source"].endswith("/" + attributes["subject"])
        assert urlparse(attributes["dataschema"]).scheme == "https"  # an absolute URI
        assert int(attributes["position"]) == row.position
        for name, value in attributes.items():  # CloudEvents types only
            assert isinstance(value, str | bool) or (type(value) is int and value in _INT32), name
        assert not {"originator_topic", "timestamp"} & set(event.get_data() or {})
        assert orjson.loads(raw)["data"] == event.get_data()
