"""Domain records shared by the core and the store."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum


class NumberType(str, Enum):
    GEOGRAPHIC = "geographic"
    TOLL_FREE = "tollFree"
    MOBILE = "mobile"


class AssignmentType(str, Enum):
    PERSON = "person"
    APPLICATION = "application"


class Direction(str, Enum):
    """One capability (calling or sms) of a number."""

    NONE = "none"
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    BOTH = "inbound+outbound"

    def covers(self, other: Direction) -> bool:
        """True when `other` asks for no direction that this one lacks."""
        return other is Direction.NONE or self is Direction.BOTH or self is other


class NumberState(str, Enum):
    AVAILABLE = "available"
    HELD = "held"
    RESERVED = "reserved"
    PURCHASED = "purchased"
    AGING = "aging"
    WITHDRAWN = "withdrawn"
    """Out of sale for good (`numberpool inventory withdraw`); kept for the record."""


class OperationType(str, Enum):
    SEARCH = "search"
    PURCHASE = "purchase"
    RELEASE = "releasePhoneNumber"
    UPDATE_CAPABILITIES = "updatePhoneNumberCapabilities"
    RESERVATION_PURCHASE = "reservationPurchase"


class ReservationStatus(str, Enum):
    ACTIVE = "active"
    SUBMITTED = "submitted"
    COMPLETED = "completed"
    EXPIRED = "expired"


class OperationStatus(str, Enum):
    NOT_STARTED = "notStarted"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True)
class Capabilities:
    calling: Direction
    sms: Direction


@dataclass(frozen=True)
class Cost:
    amount: float
    currency: str = "USD"
    billing_frequency: str = "monthly"


@dataclass(frozen=True)
class Country:
    code: str
    name: str
    do_not_resell: bool = False


@dataclass(frozen=True)
class Offering:
    country: str
    number_type: NumberType
    assignment: AssignmentType
    capabilities: Capabilities
    """The most each capability may be; a search may ask for less."""
    cost: Cost
    aging_days: int = 0
    """How long a released number of this offering rests (state `aging`) before it is for sale again."""

    def allows(self, wanted: Capabilities) -> bool:
        if wanted.calling is Direction.NONE and wanted.sms is Direction.NONE:
            return False
        return self.capabilities.calling.covers(wanted.calling) and self.capabilities.sms.covers(wanted.sms)


@dataclass(frozen=True)
class Locality:
    country: str
    number_type: NumberType
    area_code: str
    name: str | None
    division_abbr: str | None
    division_name: str | None


@dataclass
class Search:
    id: str
    resource: str
    country: str
    number_type: NumberType
    assignment: AssignmentType
    capabilities: Capabilities
    area_code: str | None
    quantity: int
    cost: Cost
    created_at: datetime
    expires_at: datetime
    agreement_required: bool
    status: str = "held"  # held | purchased | cancelled | expired | failed
    error: str = "NoError"
    phone_numbers: list[str] = field(default_factory=list)


@dataclass
class PhoneNumber:
    phone_number: str
    country: str
    number_type: NumberType
    area_code: str
    state: NumberState
    holder: str | None = None
    hold_expires_at: datetime | None = None
    owner: str | None = None
    assignment: AssignmentType | None = None
    capabilities: Capabilities | None = None
    cost: Cost | None = None
    purchased_at: datetime | None = None
    aging_until: datetime | None = None

    @property
    def id(self) -> str:
        return self.phone_number.lstrip("+")


@dataclass(frozen=True)
class AvailableNumber:
    """A number offered under one offering: a browse result, or one number of a reservation."""

    phone_number: str
    country: str
    number_type: NumberType
    assignment: AssignmentType
    capabilities: Capabilities
    cost: Cost
    agreement_required: bool

    @property
    def id(self) -> str:
        return self.phone_number.lstrip("+")


@dataclass
class Reservation:
    """Numbers a resource has set aside to buy later; `phone_numbers` is empty when listed."""

    id: str
    resource: str
    status: str  # stored: active | expired | completed; see status_at
    created_at: datetime
    expires_at: datetime
    completes_at: datetime | None = None
    """When its purchase finishes; until then the reservation is `submitted`."""
    phone_numbers: list[AvailableNumber] = field(default_factory=list)

    def status_at(self, now: datetime) -> ReservationStatus:
        if self.status == "completed":
            done = self.completes_at is None or now >= self.completes_at
            return ReservationStatus.COMPLETED if done else ReservationStatus.SUBMITTED
        if self.status == "expired" or now >= self.expires_at:
            return ReservationStatus.EXPIRED
        return ReservationStatus.ACTIVE


@dataclass
class Operation:
    id: str
    resource: str
    operation_type: OperationType
    outcome: OperationStatus
    """Final status; what a poll shows before `completes_at` is derived from time."""
    created_at: datetime
    completes_at: datetime
    resource_location: str | None = None
    error_code: str | None = None
    error_message: str | None = None

    def status_at(self, now: datetime) -> OperationStatus:
        if now >= self.completes_at:
            return self.outcome
        halfway = self.created_at + (self.completes_at - self.created_at) / 2
        return OperationStatus.NOT_STARTED if now < halfway else OperationStatus.RUNNING

    def last_action_at(self, now: datetime) -> datetime:
        return min(now, self.completes_at)


@dataclass(frozen=True)
class Resource:
    """An ACS resource: a tenant with its own numbers and access keys."""

    id: str
    keys: tuple[bytes, ...]


SYSTEM_ACTOR = "system"
"""The actor of changes the service makes by itself (the sweep, a hold that lapsed)."""
ADMIN_ACTOR = "admin"
"""The actor of changes an operator makes (command line, admin API)."""


class EventKind(str, Enum):
    """What an audit event records: a number's change of state, or an admin action."""

    HELD = "held"
    HOLD_LAPSED = "hold lapsed"
    HOLD_CANCELLED = "hold cancelled"
    RESERVED = "reserved"
    PURCHASED = "purchased"
    CAPABILITIES_UPDATED = "capabilities updated"
    RELEASED = "released"
    AGING_ENDED = "aging ended"
    WITHDRAWN = "withdrawn"
    IMPORTED = "imported"
    RESOURCE_CREATED = "resource created"
    RESOURCE_DELETED = "resource deleted"
    KEY_ROTATED = "key rotated"
    CATALOG_IMPORTED = "catalog imported"


@dataclass(frozen=True)
class Change:
    """Who changes numbers, when (service clock, epoch seconds) and under which id: what the events record."""

    at: float
    actor: str
    """A resource id, `admin` or `system`."""
    resource: str | None = None
    reference: str | None = None
    """The operation, search or reservation id the change belongs to."""


@dataclass(frozen=True)
class NumberEvent:
    """One row of the append-only audit trail."""

    id: int
    at: datetime
    event: str
    phone_number: str | None
    old_state: str | None
    new_state: str | None
    resource: str | None
    reference: str | None
    actor: str
    detail: str | None = None
