"""A faster decoder for whole-log replays (`swarmdesk rebuild`/`verify`).

Same result as `app.store.codec.decode` (tested equal on every event type): the stored state
is parsed with orjson, then the transcoder's own `_decode_obj` hook is applied
bottom-up to every object (what `json.JSONDecoder(object_hook=...)` does), so the
registered transcodings (UUIDs, datetimes, decimals) are the mapper's own. Any failure
falls back to `app.store.codec.decode`, which raises the named `EventDecodeError`.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, cast
from uuid import UUID

import orjson
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import JSONTranscoder, Mapper, UUIDAsHex, find_id_convertor
from eventsourcing.utils import resolve_topic

from app.store.codec import create_mapper, decode
from app.store.types import RecordedEvent
from projections.parallel import Packed


def _hooked(value: Any, hook: Callable[[dict[str, Any]], Any]) -> Any:
    """`hook` applied bottom-up to every object of freshly parsed JSON (in place)."""
    if type(value) is dict:
        for k, v in value.items():
            if type(v) is dict:
                # A pair of two strings (a transcoded UUID, datetime...) holds nothing
                # to hook first: straight to the hook, no recursion.
                if len(v) == 2 and type(v.get("_data_")) is str and type(v.get("_type_")) is str:
                    value[k] = hook(v)
                else:
                    value[k] = _hooked(v, hook)
            elif type(v) is list:
                value[k] = _hooked(v, hook)
        return hook(value) if len(value) == 2 else value  # the hook only maps pairs
    if type(value) is list:
        return [_hooked(v, hook) if type(v) is dict or type(v) is list else v for v in value]
    return value


class _OrjsonTranscoder(JSONTranscoder):
    """UUIDs (`uuid_hex`, when that is eventsourcing's own `UUIDAsHex`) are decoded
    through a bounded cache: the log names the same agents and cases over and over,
    and a `UUID` is immutable, so events may share one. At most `cache_size` are kept
    (then the cache starts again): a long-lived process keeps it small, since every
    cached `UUID` is one more object for each full garbage collection to visit."""

    def __init__(self, cache_size: int = 100_000) -> None:
        super().__init__()
        self._uuids: dict[str, UUID] = {}
        self._cache_size = cache_size

    def decode(self, data: bytes) -> Any:
        if type(self.names.get("uuid_hex")) is UUIDAsHex:
            return self._walk(orjson.loads(data))
        return _hooked(orjson.loads(data), self._decode_obj)

    def _walk(self, value: Any) -> Any:
        """`_hooked(value, self._hook)` with the UUID pairs decoded inline (the common
        case, several per event) instead of through a call each."""
        if type(value) is list:
            return [self._walk(v) if type(v) is dict or type(v) is list else v for v in value]
        if type(value) is not dict:
            return value
        uuids = self._uuids
        for k, v in value.items():
            if type(v) is dict:
                if len(v) == 2:
                    name, hexed = v.get("_type_"), v.get("_data_")
                    if type(name) is str and type(hexed) is str:
                        uuid = uuids.get(hexed) if name == "uuid_hex" else None
                        value[k] = uuid if uuid is not None else self._hook(v)
                        continue
                value[k] = self._walk(v)
            elif type(v) is list:
                value[k] = self._walk(v)
        return self._hook(value) if len(value) == 2 else value

    def _hook(self, d: dict[str, Any]) -> Any:
        if d.get("_type_") != "uuid_hex" or "_data_" not in d:
            return self._decode_obj(d)
        hexed = d["_data_"]
        uuid = self._uuids.get(hexed)
        if uuid is None:
            if type(hexed) is not str:
                return self._decode_obj(d)  # raises as the standard decoder would
            uuid = UUID(hexed)
            if len(self._uuids) >= self._cache_size:
                self._uuids.clear()
            self._uuids[hexed] = uuid
        return uuid


def create_replay_mapper(uuid_cache: int = 100_000) -> Mapper[UUID]:
    """A mapper like `app.store.codec.create_mapper()` whose decoding uses orjson."""
    standard = create_mapper()
    transcoder = _OrjsonTranscoder(uuid_cache)
    for transcoding in standard.transcoder.names.values():  # type: ignore[attr-defined]
        transcoder.register(transcoding)
    return Mapper(transcoder=transcoder)


Fields = Callable[[UUID, int, str, bytes], DomainEventProtocol[UUID]]


def _fields_decoder(uuid_cache: int = 100_000) -> Fields:
    """`(originator id, version, topic, state) -> domain event`: `Mapper.to_domain_event`
    inlined for our mapper (no cipher, no compressor), with the event class, its
    `class_version` and the id converter found once per topic rather than once per row.
    Raises on any failure (callers fall back to `app.store.codec.decode`)."""
    fast = create_replay_mapper(uuid_cache)
    transcoder = fast.transcoder
    if fast.cipher is not None or fast.compressor is not None:  # pragma: no cover
        raise RuntimeError("the replay decoder expects a plain JSON mapper")
    classes: dict[tuple[str, type], tuple[type, int, Callable[[Any], Any]]] = {}

    def decode_fields(
        oid: UUID, version: int, topic: str, data: bytes
    ) -> DomainEventProtocol[UUID]:
        found = classes.get((topic, type(oid)))
        if found is None:
            cls = resolve_topic(topic)
            convert = find_id_convertor(cls, cast(Hashable, type(oid)))
            found = classes[(topic, type(oid))] = (
                cls,
                getattr(cls, "class_version", 1),
                convert,
            )
        cls, class_version, convert = found
        state: dict[str, Any] = transcoder.decode(data)
        state["originator_id"] = convert(oid)
        state["originator_version"] = version
        from_version = state.pop("class_version", 1)
        while from_version < class_version:
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
            from_version += 1
        event: DomainEventProtocol[UUID] = object.__new__(cls)
        object.__setattr__(event, "__dict__", state)
        return event

    return decode_fields


def replay_decoder(
    uuid_cache: int = 100_000,
) -> Callable[[RecordedEvent], DomainEventProtocol[UUID]]:
    """`row -> domain event`, fast; identical to `decode(create_mapper(), row)`.
    `uuid_cache`: how many decoded UUIDs to share between events (see `_OrjsonTranscoder`)."""
    fields, standard = _fields_decoder(uuid_cache), create_mapper()

    def decode_row(row: RecordedEvent) -> DomainEventProtocol[UUID]:
        try:
            return fields(row.originator_id, row.originator_version, row.topic, row.state)
        except Exception:
            return decode(standard, row)  # raises the named EventDecodeError

    return decode_row


_NO_ID = UUID(int=0)


def packed_decoder() -> Callable[[Packed], DomainEventProtocol[UUID]]:
    """`replay_decoder` for the rows `projections.parallel` sends its workers
    (`(position, originator id as int, version, topic, state)`); picklable by name, so
    each worker builds its own. Failures raise the same named `EventDecodeError`."""
    fields, standard = _fields_decoder(), create_mapper()
    ids: dict[int, UUID] = {}

    def decode_packed(packed: Packed) -> DomainEventProtocol[UUID]:
        position, number, version, topic, data = packed
        oid = ids.get(number)
        if oid is None:
            oid = UUID(int=number)
            if len(ids) >= 100_000:
                ids.clear()
            ids[number] = oid
        try:
            return fields(oid, version, topic, data)
        except Exception:
            row = RecordedEvent(position, _NO_ID, oid, version, topic, data)
            return decode(standard, row)  # raises the named EventDecodeError

    return decode_packed
