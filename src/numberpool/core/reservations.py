"""Reservations: numbers a resource sets aside one by one, then buys in one go.

A reservation has a client-chosen UUID. Each change (create, add, remove) moves its
expiry to 15 minutes later, but never past 2 hours after its creation. Only an
active reservation can be changed, deleted or purchased. A reserved number is
nobody else's: no search, browse or other reservation gets it until the
reservation is deleted, expires (lazily, and for good by the sweep) or the number
is removed from it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from numberpool.core import errors
from numberpool.core.context import Context
from numberpool.core.faults import planned_failure
from numberpool.core.model import (
    AssignmentType,
    SYSTEM_ACTOR,
    AvailableNumber,
    Capabilities,
    Change,
    Cost,
    Direction,
    EventKind,
    NumberType,
    Offering,
    Operation,
    OperationStatus,
    OperationType,
    PhoneNumber,
    Reservation,
    ReservationStatus,
)
from numberpool.numbering.e164 import is_toll_free, normalize, region_of
from numberpool.core.storage import Transaction

RESERVATION_MINUTES = 15
"""A reservation expires this long after its last change..."""
MAX_RESERVATION_HOURS = 2
"""...but never later than this after its creation."""
MAX_CHANGES = 1000
"""Phone numbers one request may add or remove."""

NOT_FOUND_MESSAGE = errors.RESERVATION_NOT_FOUND_MESSAGE
FAILED_TO_RESERVE = errors.NUMBER_NOT_AVAILABLE
FAILED_TO_RESERVE_MESSAGE = errors.NUMBER_NOT_AVAILABLE_MESSAGE

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


@dataclass(frozen=True)
class NumberRequest:
    """What the client asked of one number; what it left out, the service chooses."""

    country: str | None = None
    number_type: NumberType | None = None
    assignment: AssignmentType | None = None
    capabilities: Capabilities | None = None


@dataclass(frozen=True)
class FailedNumber:
    """A number a request could not reserve, described as far as the service knows it."""

    phone_number: str
    country: str
    number_type: NumberType
    assignment: AssignmentType
    capabilities: Capabilities
    cost: Cost | None
    agreement_required: bool | None
    code: str = FAILED_TO_RESERVE
    message: str = FAILED_TO_RESERVE_MESSAGE

    @property
    def id(self) -> str:
        return self.phone_number.lstrip("+")


@dataclass
class ReservationChange:
    """The outcome of a create-or-update: the reservation as it now is, and what could not be reserved."""

    reservation: Reservation
    created: bool
    failed: list[FailedNumber] = field(default_factory=list)


def reservation_location(reservation_id: str) -> str:
    return f"/availablePhoneNumbers/reservations/{reservation_id}"


def purchase_operation_id(reservation_id: str) -> str:
    return f"reservationPurchase_{reservation_id}"


reservation_not_found = errors.reservation_not_found


def not_active(status: ReservationStatus) -> errors.AcsError:
    return errors.AcsError(
        "ReservationNotActive",
        f"The reservation is {status.value}; only active reservations can be updated, deleted or purchased.",
        status=409,
    )


def canonical_id(raw: str) -> str | None:
    """The lower-case form of a UUID in any letter case, or None for anything else."""
    return raw.lower() if _UUID.fullmatch(raw) else None


def number_from_id(key: str) -> str:
    """The E.164 number of a phone number id (its digits, as the reservation's keys are)."""
    e164 = normalize(key) if key[:1] != " " else None
    if e164 is None:
        shown = key if len(key) <= 20 else key[:17] + "..."
        raise errors.bad_request(f"Invalid phone number id '{shown}': expected its digits.", target="phoneNumbers")
    return e164


def _expiry(reservation: Reservation, now: datetime) -> datetime:
    latest = reservation.created_at + timedelta(hours=MAX_RESERVATION_HOURS)
    return min(now + timedelta(minutes=RESERVATION_MINUTES), latest)


async def _load(tx: Transaction, resource: str, reservation_id: str) -> Reservation:
    reservation = await tx.get_reservation(reservation_id)
    if reservation is None or reservation.resource != resource:
        raise reservation_not_found()
    return reservation


async def _expire(tx: Transaction, reservation: Reservation, now: datetime) -> None:
    """What the sweep would do: its numbers back to the inventory, the reservation marked expired."""
    lapsed = Change(now.timestamp(), SYSTEM_ACTOR, reservation.resource, reservation.id)
    await tx.release_reserved(reservation.id, lapsed, EventKind.HOLD_LAPSED)
    reservation.status = "expired"
    await tx.update_reservation(reservation)


async def _refusal(tx: Transaction, reservation: Reservation, now: datetime) -> errors.AcsError | None:
    """None for an active reservation; otherwise the error to answer, after releasing a lapsed one's numbers."""
    status = reservation.status_at(now)
    if status is ReservationStatus.ACTIVE:
        return None
    if status is ReservationStatus.EXPIRED and reservation.status == "active":
        await _expire(tx, reservation, now)
    return not_active(status)


def _offer(
    number: PhoneNumber,
    wanted: NumberRequest,
    offerings: list[Offering],
    types: tuple[NumberType, ...],
    do_not_resell: bool,
) -> AvailableNumber | None:
    """The number under the cheapest offering that fits what was asked, or None if none does."""
    if number.number_type not in types:
        return None
    if wanted.country is not None and wanted.country.upper() != number.country:
        return None
    if wanted.number_type is not None and wanted.number_type is not number.number_type:
        return None
    fitting = [
        o
        for o in offerings
        if o.number_type is number.number_type
        and (wanted.assignment is None or o.assignment is wanted.assignment)
        and (wanted.capabilities is None or o.allows(wanted.capabilities))
    ]
    if not fitting:
        return None
    plan = min(fitting, key=lambda o: o.cost.amount)
    return AvailableNumber(
        number.phone_number,
        number.country,
        number.number_type,
        plan.assignment,
        wanted.capabilities or plan.capabilities,
        plan.cost,
        do_not_resell,
    )


def _failed(
    e164: str, wanted: NumberRequest, known: PhoneNumber | None, do_not_resell: dict[str, bool]
) -> FailedNumber:
    country = known.country if known else (wanted.country or "").upper() or region_of(e164) or ""
    if known:
        number_type = known.number_type
    else:
        number_type = wanted.number_type or (NumberType.TOLL_FREE if is_toll_free(e164) else NumberType.GEOGRAPHIC)
    return FailedNumber(
        phone_number=e164,
        country=country,
        number_type=number_type,
        assignment=wanted.assignment or AssignmentType.APPLICATION,
        capabilities=wanted.capabilities or Capabilities(Direction.NONE, Direction.NONE),
        cost=None,
        agreement_required=do_not_resell.get(country),
    )


async def create_or_update(
    ctx: Context,
    resource: str,
    raw_id: str,
    changes: dict[str, NumberRequest | None],
    types: tuple[NumberType, ...] = tuple(NumberType),
) -> ReservationChange:
    """Create the reservation if it is new, then add (value) and remove (None) numbers, keyed by E.164.

    A number already in the reservation is left as it is; removing one that is not in it
    does nothing. A number that cannot be reserved (not for sale now, or no offering fits
    what was asked) is reported in `failed` and changes nothing.
    """
    reservation_id = canonical_id(raw_id)
    if reservation_id is None:
        raise errors.bad_request("The reservation id must be a UUID.", target="reservationId")
    if len(changes) > MAX_CHANGES:
        raise errors.bad_request(
            f"A request can add or remove at most {MAX_CHANGES} phone numbers.", target="phoneNumbers"
        )
    now = ctx.clock.now()
    epoch = now.timestamp()
    failed: list[FailedNumber] = []
    change = Change(epoch, resource, resource, reservation_id)
    async with ctx.store.transaction() as tx:
        fresh = Reservation(reservation_id, resource, "active", now, now + timedelta(minutes=RESERVATION_MINUTES))
        created = await tx.insert_reservation(fresh)
        reservation = await _load(tx, resource, reservation_id)
        refused = await _refusal(tx, reservation, now)
        if refused is None:
            current = {n.phone_number for n in reservation.phone_numbers}
            removed = sorted(n for n, wanted in changes.items() if wanted is None and n in current)
            if removed:
                await tx.release_reserved(reservation_id, change, EventKind.HOLD_CANCELLED, removed)
                await tx.remove_from_reservation(reservation_id, removed)
            added = {n: wanted for n, wanted in sorted(changes.items()) if wanted is not None and n not in current}
            reservation.expires_at = _expiry(reservation, now)
            if added:
                free = {n.phone_number: n for n in await tx.lock_free_numbers(list(added), epoch)}
                do_not_resell = {c.code: c.do_not_resell for c in await tx.countries()}
                offerings: dict[str, list[Offering]] = {}
                reserving = []
                for e164, wanted in added.items():
                    number = free.get(e164)
                    offered = None
                    if number is not None:
                        if number.country not in offerings:
                            offerings[number.country] = await tx.offerings(number.country)
                        offered = _offer(
                            number, wanted, offerings[number.country], types, do_not_resell.get(number.country, False)
                        )
                    if offered is None:
                        failed.append(_failed(e164, wanted, number, do_not_resell))
                    else:
                        reserving.append(offered)
                if reserving:
                    await tx.reserve(reservation_id, reserving, reservation.expires_at.timestamp(), epoch, change)
            await tx.update_reservation(reservation)
            reservation = await _load(tx, resource, reservation_id)
    if refused is not None:
        raise refused
    return ReservationChange(reservation, created, failed)


async def get_reservation(ctx: Context, resource: str, raw_id: str) -> Reservation:
    reservation_id = canonical_id(raw_id)
    if reservation_id is None:
        raise reservation_not_found()
    async with ctx.store.read() as tx:
        return await _load(tx, resource, reservation_id)


async def list_reservations(ctx: Context, resource: str, skip: int, top: int) -> list[Reservation]:
    """The resource's reservations, oldest first, without their numbers."""
    async with ctx.store.read() as tx:
        return await tx.list_reservations(resource, skip, top)


async def delete_reservation(ctx: Context, resource: str, raw_id: str) -> None:
    """Forget an active reservation; its numbers go back to the inventory."""
    reservation_id = canonical_id(raw_id)
    if reservation_id is None:
        raise reservation_not_found()
    now = ctx.clock.now()
    async with ctx.store.transaction() as tx:
        reservation = await _load(tx, resource, reservation_id)
        refused = await _refusal(tx, reservation, now)
        if refused is None:
            cancelled = Change(now.timestamp(), resource, resource, reservation_id)
            await tx.release_reserved(reservation_id, cancelled, EventKind.HOLD_CANCELLED)
            await tx.delete_reservation(reservation_id)
    if refused is not None:
        raise refused


async def purchase_reservation(ctx: Context, resource: str, raw_id: str, agree_to_not_resell: bool,
                               refusal: errors.ResellRefusal = "agreement") -> Operation:
    """Buy every number of an active reservation, once; a repeated purchase answers with the first operation."""
    reservation_id = canonical_id(raw_id)
    if reservation_id is None:
        raise reservation_not_found()
    operation_id = purchase_operation_id(reservation_id)
    now = ctx.clock.now()
    async with ctx.store.transaction() as tx:
        reservation = await _load(tx, resource, reservation_id)
        earlier = await tx.get_operation(operation_id)
        if earlier is not None:
            return earlier
        refused = await _refusal(tx, reservation, now)
        if refused is None:
            if not reservation.phone_numbers:
                raise errors.reservation_is_empty()
            if any(n.agreement_required for n in reservation.phone_numbers) and not agree_to_not_resell:
                raise errors.do_not_resell_refused(refusal)
            failure = planned_failure()  # a fault rule's, in testing mode
            if failure is not None:  # nothing bought; the reservation stays as it was
                operation = ctx.new_operation(
                    resource, OperationType.RESERVATION_PURCHASE, operation_id, outcome=OperationStatus.FAILED,
                    error=(failure.code, failure.message),
                )
                await tx.insert_operation(operation)
                return operation
            bought = await tx.purchase_reserved(
                reservation_id, resource, Change(now.timestamp(), resource, resource, operation_id)
            )
            operation = ctx.new_operation(
                resource,
                OperationType.RESERVATION_PURCHASE,
                operation_id,
                outcome=OperationStatus.SUCCEEDED if bought else OperationStatus.FAILED,
                error=None if bought else ("PurchaseFailed", "None of the reserved phone numbers could be purchased."),
            )
            reservation.status = "completed"
            reservation.completes_at = operation.completes_at
            await tx.update_reservation(reservation)
            await tx.insert_operation(operation)
    if refused is not None:
        raise refused
    ctx.operation_recorded(operation)
    return operation
