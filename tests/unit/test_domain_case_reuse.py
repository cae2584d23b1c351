"""A solved case reused by another (`SolutionReused`): who, when, once per case helped;
the one command a closed case takes besides reopen."""

from uuid import uuid4

from domain import Case, CaseStatus, InvalidTransition, NotAllowed
from domain.case_snapshot import case_from_snapshot, snapshot_of
from tests.unit.test_domain_support import (
    OTHER,
    OWNER,
    SERVICE,
    closed,
    given,
    resolved,
    then_one,
    then_rejected,
)

HELPED = uuid4()


def test_any_agent_records_a_reuse_of_a_resolved_case() -> None:
    case = given(resolved())
    case.record_reuse(OTHER, for_case_id=HELPED)
    event = then_one(case, Case.SolutionReused)
    assert (event.for_case_id, event.reused_by) == (HELPED, OTHER.id)
    assert case.status is CaseStatus.RESOLVED


def test_a_closed_case_is_still_reused() -> None:
    case = given(resolved(), closed())
    case.record_reuse(OTHER, for_case_id=HELPED)
    then_one(case, Case.SolutionReused)


def test_once_per_case_helped_even_after_a_snapshot() -> None:
    case = given(resolved(), lambda c: c.record_reuse(OTHER, for_case_id=HELPED))
    then_rejected(case, InvalidTransition, lambda c: c.record_reuse(OWNER, for_case_id=HELPED))
    restored = case_from_snapshot(snapshot_of(case))
    then_rejected(restored, InvalidTransition, lambda c: c.record_reuse(OTHER, for_case_id=HELPED))
    restored.record_reuse(OTHER, for_case_id=uuid4())  # another case: counted again
    then_one(restored, Case.SolutionReused)


def test_refused_while_unsolved_by_itself_or_by_a_service() -> None:
    then_rejected(given(), InvalidTransition, lambda c: c.record_reuse(OTHER, for_case_id=HELPED))
    abandoned = given(closed())  # closed without a resolution: nothing to reuse
    then_rejected(abandoned, InvalidTransition, lambda c: c.record_reuse(OTHER, for_case_id=HELPED))
    case = given(resolved())
    then_rejected(case, InvalidTransition, lambda c: c.record_reuse(OTHER, for_case_id=c.id))
    then_rejected(case, NotAllowed, lambda c: c.record_reuse(SERVICE, for_case_id=HELPED))
