"""Rules that need no server: capability coverage, the operation status timeline."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from numberpool.core.model import (
    AssignmentType, Capabilities, Cost, Direction, NumberType, Offering, Operation, OperationStatus, OperationType,
)
from numberpool.core.timeutil import Clock

N, I, O, B = Direction.NONE, Direction.INBOUND, Direction.OUTBOUND, Direction.BOTH


@pytest.mark.parametrize(
    "offered, wanted, allowed",
    [((B, B), (I, O), True), ((B, N), (B, N), True), ((B, N), (B, I), False), ((O, O), (I, N), False),
     ((B, B), (N, N), False), ((I, N), (I, N), True)],
)
def test_an_offering_allows_what_its_capabilities_cover(offered, wanted, allowed):
    offering = Offering("US", NumberType.TOLL_FREE, AssignmentType.APPLICATION, Capabilities(*offered), Cost(2.0))
    assert offering.allows(Capabilities(*wanted)) is allowed


def test_operation_status_moves_from_not_started_to_running_to_its_outcome():
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    op = Operation("search_x", "r", OperationType.SEARCH, OperationStatus.FAILED, start, start + timedelta(seconds=2))
    assert op.status_at(start) is OperationStatus.NOT_STARTED
    assert op.status_at(start + timedelta(seconds=1.5)) is OperationStatus.RUNNING
    assert op.status_at(start + timedelta(seconds=2)) is OperationStatus.FAILED
    assert op.last_action_at(start + timedelta(hours=1)) == start + timedelta(seconds=2)


def test_an_operation_without_latency_is_done_at_once():
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    op = Operation("purchase_x", "r", OperationType.PURCHASE, OperationStatus.SUCCEEDED, start, start)
    assert op.status_at(start) is OperationStatus.SUCCEEDED


def test_the_clock_only_moves_forward():
    clock = Clock()
    before = clock.epoch()
    clock.advance(60)
    assert clock.epoch() - before >= 60
    with pytest.raises(ValueError):
        clock.advance(-1)
