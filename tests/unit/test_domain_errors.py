"""The error hierarchy, its codes, and the ids errors carry; actors and values."""

from uuid import uuid4

import pytest

from domain import (
    Actor,
    DomainError,
    InvalidInput,
    InvalidTransition,
    NotAllowed,
    NotFoundInCase,
    Priority,
    Role,
)
from domain.values import parse_enum, require_text, unique_texts, unique_uuids


@pytest.mark.parametrize(
    ("error_class", "code"),
    [
        (DomainError, "domain_error"),
        (NotAllowed, "not_allowed"),
        (InvalidTransition, "invalid_transition"),
        (NotFoundInCase, "not_found_in_case"),
        (InvalidInput, "invalid_input"),
    ],
)
def test_codes_and_hierarchy(error_class: type[DomainError], code: str) -> None:
    assert error_class.code == code
    assert issubclass(error_class, DomainError)
    assert issubclass(DomainError, Exception)


def test_message_names_the_ids_and_details_are_json_simple() -> None:
    case_id, actor_id, offending_id = uuid4(), uuid4(), uuid4()
    error = NotAllowed("nope", case_id=case_id, actor_id=actor_id, offending_id=offending_id)
    for value in (case_id, actor_id, offending_id):
        assert str(value) in str(error)
    assert error.details() == {
        "code": "not_allowed",
        "message": "nope",
        "case_id": str(case_id),
        "actor_id": str(actor_id),
        "offending_id": str(offending_id),
    }


def test_details_without_ids() -> None:
    error = InvalidTransition("closed")
    assert str(error) == "closed"
    assert error.details()["case_id"] is None


def test_not_found_in_case_carries_the_missing_id() -> None:
    missing, case_id = uuid4(), uuid4()
    error = NotFoundInCase("insight", missing, case_id=case_id)
    assert (error.what, error.missing_id, error.offending_id) == ("insight", missing, missing)
    assert f"no insight {missing}" in str(error)


def test_invalid_input_carries_the_field() -> None:
    error = InvalidInput("version", "too big")
    assert error.field == "version"
    assert error.message == "version: too big"


@pytest.mark.parametrize(
    ("role", "is_supervisor"),
    [(Role.AGENT, False), (Role.SERVICE, False), (Role.SUPERVISOR, True), (Role.ADMIN, True)],
)
def test_supervisor_rights(role: Role, is_supervisor: bool) -> None:
    assert Actor(uuid4(), role).is_supervisor is is_supervisor


def test_parse_enum_and_text_helpers() -> None:
    assert parse_enum(Priority, "low", "priority") is Priority.LOW
    assert parse_enum(Priority, Priority.HIGH, "priority") is Priority.HIGH
    with pytest.raises(InvalidInput, match="low, normal, high, urgent"):
        parse_enum(Priority, "LOW", "priority")
    assert require_text(" a ", "f") == "a"
    first, second = uuid4(), uuid4()
    assert unique_uuids([second, first, second]) == [second, first]
    assert unique_texts([" b", "a", "b", " "]) == ["b", "a"]
