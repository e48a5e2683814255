"""What every rule needs: the store, the clock and the service settings."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from numberpool.core.catalog_cache import CatalogCache
from numberpool.core.faults import FaultBook, planned_latency
from numberpool.core.model import Operation, OperationStatus, OperationType
from numberpool.core.timeutil import Clock
from numberpool.core.storage import Store
from numberpool.core.unique_ids import UNIQUE_IDS

MAX_HOLD_MINUTES = 15.0


@dataclass(frozen=True)
class Settings:
    hold_minutes: float = MAX_HOLD_MINUTES
    """How long a search holds its numbers; ACS promises less than 15 minutes."""
    operation_latency: float = 0.0
    """Seconds an operation reports notStarted/running before its outcome."""
    max_search_quantity: int = 1000
    seed: int | None = None
    """Makes random choices (browse) reproducible: the same request on the same inventory, the same answer."""


@dataclass
class Context:
    store: Store
    settings: Settings = field(default_factory=Settings)
    clock: Clock = field(default_factory=Clock)
    catalog: CatalogCache = field(default_factory=CatalogCache)
    faults: FaultBook | None = None
    """Testing mode only: the fault rules every ACS request passes through."""
    operation_recorded: Callable[[Operation], None] = field(default=lambda operation: None)
    """Called with each long-running operation once it is committed (the operations counter of /metrics)."""

    def random(self, *key: object) -> random.Random:
        """A generator for one request: seeded by the settings' seed and `key` if there is a seed, else fresh."""
        if self.settings.seed is None:
            return random.Random()
        return random.Random("|".join(map(str, (self.settings.seed, *key))))

    def new_operation(
        self,
        resource: str,
        kind: OperationType,
        operation_id: str,
        *,
        outcome: OperationStatus = OperationStatus.SUCCEEDED,
        resource_location: str | None = None,
        error: tuple[str, str] | None = None,
    ) -> Operation:
        now = self.clock.now()
        latency = planned_latency()  # a fault rule's, in testing mode
        return Operation(
            id=operation_id,
            resource=resource,
            operation_type=kind,
            outcome=outcome,
            created_at=now,
            completes_at=now + timedelta(seconds=self.settings.operation_latency if latency is None else latency),
            resource_location=resource_location,
            error_code=error[0] if error else None,
            error_message=error[1] if error else None,
        )


_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_OPERATION_ID = re.compile(rf"(search|purchase|release|capabilities|reservationPurchase)_{_ID.pattern}")


def new_id() -> str:
    return UNIQUE_IDS.next_uuid()


def is_id(text: str) -> bool:
    """True for an id this service could have issued; anything else is unknown without a lookup."""
    return _ID.fullmatch(text) is not None


def is_operation_id(text: str) -> bool:
    return _OPERATION_ID.fullmatch(text) is not None
