"""The pydantic models of every message the stream sends; AsyncAPI schemas come from here.

- `CloudEvent`: the envelope (`cloudevents.CloudEventEncoder` fills exactly these
  attributes, in this order: a test holds the two together);
- one model per event type (`event_message_model`), whose `data` model is generated from
  the domain event class's declared fields, so the schema follows the domain;
- `Progress`: a mark sent only on filtered tails, telling the consumer the stream has
  been read up to `position` (events it filtered out included), so a resume skips them.
"""

from __future__ import annotations

import functools
import typing
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, create_model

from app.realtime.stream.catalog import TopicInfo, known_topics

_UUID_RE = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_SKIPPED = {
    "originator_id",
    "originator_version",
    "originator_id_type",
    "originator_topic",
    "timestamp",
}


class CloudEvent(BaseModel):
    """A CloudEvents 1.0 event (JSON format) of the Swarmdesk log."""

    model_config = ConfigDict(extra="forbid")

    specversion: Literal["1.0"]
    id: UUID = Field(description="The event's unique id (deduplicate by it).")
    source: str = Field(
        pattern=f"^/swarmdesk/[a-z_]+s/{_UUID_RE}$",
        description="/swarmdesk/cases/{case_id} or /swarmdesk/agents/{agent_id}",
    )
    type: str = Field(pattern=r"^io\.swarmdesk\.[a-z_]+\.[a-z0-9_]+\.v[0-9]+$")
    subject: UUID = Field(description="The case's (or agent's) id: the resource in `source`.")
    time: AwareDatetime
    datacontenttype: Literal["application/json"]
    dataschema: str = Field(
        description="URI of `data`'s schema: a component of the served AsyncAPI document."
    )
    position: str = Field(
        pattern="^[1-9][0-9]{0,18}$",
        description="Extension: the event's global position, as a decimal string (a "
        "64-bit integer; CloudEvents integers are 32-bit). Resume after it.",
    )
    caseversion: int = Field(
        ge=1, description="Extension: the case's (or agent's) version after this event."
    )
    data: dict[str, Any]
    traceparent: str | None = Field(
        default=None,
        pattern="^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
        description="Extension (distributed tracing): the W3C trace context of the "
        "command that appended the event (only with traces on, and only from the process "
        "that appended it).",
    )


class Progress(BaseModel):
    """Sent on filtered tails only: the stream was read up to `position` (resume after it)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["progress"]
    position: int = Field(ge=0)


def _field_type(annotation: Any) -> Any:
    if annotation is datetime:
        return AwareDatetime
    return annotation


@functools.lru_cache(maxsize=256)
def data_model(info: TopicInfo) -> type[BaseModel]:
    """The model of `data` for one event type, from its class's declared fields."""
    assert info.event_class is not None
    hints = typing.get_type_hints(info.event_class)
    fields: dict[str, Any] = {}
    for name, annotation in hints.items():
        if name in _SKIPPED or typing.get_origin(annotation) is typing.ClassVar:
            continue
        fields[name] = (_field_type(annotation), ...)
    model: type[BaseModel] = create_model(
        f"{info.name}Data", __config__=ConfigDict(extra="forbid"), **fields
    )
    return model


@functools.lru_cache(maxsize=256)
def event_message_model(info: TopicInfo) -> type[BaseModel]:
    """`CloudEvent` narrowed to one type: constant `type`, typed `data`."""
    fields: dict[str, Any] = {
        "type": (Literal[info.type], ...),
        "source": (str, Field(pattern=f"^{info.source_prefix}{_UUID_RE}$")),
        "data": (data_model(info), ...),
    }
    model: type[BaseModel] = create_model(
        f"{info.name}Event",
        __base__=CloudEvent,
        __doc__=f"{info.name} (version {info.version}) as a CloudEvent.",
        **fields,
    )
    return model


def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """A self-contained draft-07 schema (`definitions`, not `$defs`) of `model`."""
    schema = model.model_json_schema(ref_template="#/definitions/{model}", mode="serialization")
    defs = schema.pop("$defs", None)
    if defs:
        schema["definitions"] = defs
    return schema


def message_models() -> dict[str, type[BaseModel]]:
    """Every message the stream can send, by message name."""
    out: dict[str, type[BaseModel]] = {
        info.name: event_message_model(info) for info in known_topics()
    }
    out["Progress"] = Progress
    return out
