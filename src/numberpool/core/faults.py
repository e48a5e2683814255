"""Fault rules (testing mode): which requests fail on purpose, and how.

A rule names what it matches (the official operationId without its `PhoneNumbers_` prefix, a
resource, a country, a phone-number glob; each optional), how often (`probability`, `times`) and
its effect: an HTTP error, a long-running operation that fails, latency, operation latency or a
dropped connection. Rules live in the store, so every process on a database obeys the same ones;
each process keeps a copy (`FaultBook`) that it checks against the store's version counter at
most every `max_age` seconds, and claims every hit in the store, so hits and `times` are counted
once across processes.
"""

from __future__ import annotations

import contextlib
import fnmatch
import math
import random
import re
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from numberpool.core.errors import AcsError, bad_request

# Every ACS operation, by its official operationId without `PhoneNumbers_`.
OPERATIONS = frozenset({
    "ListAreaCodes", "ListAvailableCountries", "BrowseAvailableNumbers", "ListAvailableLocalities", "ListOfferings",
    "ListReservations", "CreateOrUpdateReservation", "GetReservation", "DeleteReservation", "PurchaseReservation",
    "SearchAvailablePhoneNumbers", "GetSearchResult", "PurchasePhoneNumbers", "GetOperation", "CancelOperation",
    "UpdateCapabilities", "GetByNumber", "ReleasePhoneNumber", "ListPhoneNumbers", "OperatorInformationSearch",
})
# Those that start a long-running operation: the only ones an operation effect can act on.
LONG_RUNNING = frozenset({
    "SearchAvailablePhoneNumbers", "PurchasePhoneNumbers", "ReleasePhoneNumber", "UpdateCapabilities",
    "PurchaseReservation",
})

MAX_RULES = 100
MAX_LATENCY_MS = 120_000
MAX_OPERATION_LATENCY_SECONDS = 366 * 24 * 3600
MAX_RETRY_AFTER_SECONDS = 3600
DEFAULT_HTTP_MESSAGE = "This request failed on purpose: a numberpool fault rule matched it."
DEFAULT_OPERATION_MESSAGE = "This operation failed on purpose: a numberpool fault rule matched it."

_RULE_KEYS = {"operation", "resource", "countryCode", "phoneNumber", "probability", "times", "effect"}
_EFFECT_KEYS = {"http", "operationFailure", "latencyMs", "operationLatencySeconds", "disconnect"}
_OUTCOMES = ("http", "operationFailure", "disconnect")  # what the request ends with: one at most
_CODE = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]{0,99}")
_GLOB = re.compile(r"[0-9+*?\[\]!\-]{1,40}")
_COUNTRY = re.compile(r"[A-Z]{2}")


@dataclass(frozen=True)
class HttpFault:
    status: int
    code: str
    message: str = DEFAULT_HTTP_MESSAGE
    retry_after_seconds: float | None = None


@dataclass(frozen=True)
class OperationFailure:
    code: str
    message: str = DEFAULT_OPERATION_MESSAGE


@dataclass(frozen=True)
class Effect:
    http: HttpFault | None = None
    operation_failure: OperationFailure | None = None
    latency_ms: float = 0.0
    operation_latency_seconds: float | None = None
    disconnect: bool = False

    @property
    def acts_on_operation(self) -> bool:
        return self.operation_failure is not None or self.operation_latency_seconds is not None


@dataclass(frozen=True)
class Target:
    """What a rule can match in one request. `phone_numbers` is computed only if a rule asks."""

    operation: str
    resource: str
    country_code: str | None = None
    phone_numbers: Callable[[], tuple[str, ...]] = lambda: ()


@dataclass(frozen=True)
class Rule:
    id: str
    effect: Effect
    operation: str | None = None
    resource: str | None = None
    country_code: str | None = None
    phone_number: str | None = None
    probability: float = 1.0
    times: int | None = None
    wire: dict[str, Any] = field(default_factory=dict, compare=False)
    """The rule as the client sent it (validated): what the control API lists."""

    def matches(self, target: Target) -> bool:
        if self.operation is not None and self.operation != target.operation:
            return False
        if self.resource is not None and self.resource != target.resource:
            return False
        if self.country_code is not None and self.country_code != target.country_code:
            return False
        if self.phone_number is not None:
            return any(fnmatch.fnmatchcase(n, self.phone_number) for n in target.phone_numbers())
        return True


@dataclass(frozen=True)
class ListedRule:
    """A stored rule with its hits; `times_left` 0: spent, listed but no longer matching."""

    rule: Rule
    hits: int
    times_left: int | None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.rule.id, **self.rule.wire, "hits": self.hits,
                **({} if self.times_left is None else {"remaining": self.times_left})}


class FaultStore(Protocol):
    """Where the rules live (the `Store` of either engine)."""

    async def faults_version(self) -> int: ...
    async def fault_rules(self) -> tuple[int, list[ListedRule]]: ...
    async def replace_fault_rules(self, rules: list[Rule]) -> None: ...
    async def append_fault_rules(self, rules: list[Rule], limit: int) -> bool:
        """Add `rules` after the others unless that makes more than `limit`; False then."""
        ...

    async def clear_fault_rules(self, resource: str | None = None) -> None: ...
    async def claim_fault_hit(self, rule_id: str) -> int | None:
        """Count one hit of an unspent rule, atomically; its `times_left` after (-1: no limit), None if spent or gone."""
        ...


# --- validation ------------------------------------------------------------------------


def _number(value: Any, target: str, *, low: float, high: float, low_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise bad_request(f"'{target}' must be a number.", target=target)
    if value < low or value > high or (low_open and value == low):
        bound = f"more than {low:g}" if low_open else f"at least {low:g}"
        raise bad_request(f"'{target}' must be {bound} and at most {high:g}.", target=target)
    return float(value)


def _integer(value: Any, target: str, *, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise bad_request(f"'{target}' must be a whole number from {low} to {high}.", target=target)
    return value


def _string(value: Any, target: str, pattern: re.Pattern[str] | None = None, what: str = "a string") -> str:
    if not isinstance(value, str) or not value or len(value) > 1000 or (pattern and not pattern.fullmatch(value)):
        raise bad_request(f"'{target}' must be {what}.", target=target)
    return value


def _object(value: Any, target: str, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise bad_request(f"'{target}' must be an object.", target=target)
    for key in value:
        if key not in allowed:
            raise bad_request(
                f"'{target}.{key}' is not a field of a fault rule; expected one of {', '.join(sorted(allowed))}.",
                target=f"{target}.{key}",
            )
    return value


def _http(value: Any, target: str) -> HttpFault:
    data = _object(value, target, {"status", "code", "message", "retryAfterSeconds"})
    if "status" not in data:
        raise bad_request(f"'{target}.status' is required.", target=f"{target}.status")
    if "code" not in data:
        raise bad_request(f"'{target}.code' is required.", target=f"{target}.code")
    retry = data.get("retryAfterSeconds")
    return HttpFault(
        status=_integer(data["status"], f"{target}.status", low=400, high=599),
        code=_string(data["code"], f"{target}.code", _CODE, "an error code (letters, digits, '_', '.', '-')"),
        message=_string(data["message"], f"{target}.message") if "message" in data else DEFAULT_HTTP_MESSAGE,
        retry_after_seconds=None if retry is None else _number(
            retry, f"{target}.retryAfterSeconds", low=0, high=MAX_RETRY_AFTER_SECONDS),
    )


def _operation_failure(value: Any, target: str) -> OperationFailure:
    data = _object(value, target, {"code", "message"})
    if "code" not in data:
        raise bad_request(f"'{target}.code' is required.", target=f"{target}.code")
    return OperationFailure(
        code=_string(data["code"], f"{target}.code", _CODE, "an error code (letters, digits, '_', '.', '-')"),
        message=_string(data["message"], f"{target}.message") if "message" in data else DEFAULT_OPERATION_MESSAGE,
    )


def _effect(value: Any, target: str) -> Effect:
    data = _object(value, target, _EFFECT_KEYS)
    if not data:
        raise bad_request(f"'{target}' needs at least one of {', '.join(sorted(_EFFECT_KEYS))}.", target=target)
    outcomes = [key for key in _OUTCOMES if key in data]
    if len(outcomes) > 1:
        raise bad_request(f"'{target}' may have only one of {', '.join(_OUTCOMES)}.", target=f"{target}.{outcomes[1]}")
    if "disconnect" in data and data["disconnect"] is not True:
        raise bad_request(f"'{target}.disconnect' must be true.", target=f"{target}.disconnect")
    latency = data.get("operationLatencySeconds")
    return Effect(
        http=_http(data["http"], f"{target}.http") if "http" in data else None,
        operation_failure=_operation_failure(data["operationFailure"], f"{target}.operationFailure")
        if "operationFailure" in data else None,
        latency_ms=_number(data["latencyMs"], f"{target}.latencyMs", low=0, high=MAX_LATENCY_MS)
        if "latencyMs" in data else 0.0,
        operation_latency_seconds=None if latency is None else _number(
            latency, f"{target}.operationLatencySeconds", low=0, high=MAX_OPERATION_LATENCY_SECONDS),
        disconnect="disconnect" in data,
    )


def parse_rule(value: Any, target: str, rule_id: str) -> Rule:
    data = _object(value, target, _RULE_KEYS)
    if "effect" not in data:
        raise bad_request(f"'{target}.effect' is required.", target=f"{target}.effect")
    effect = _effect(data["effect"], f"{target}.effect")
    operation = data.get("operation")
    if operation is not None:
        operation = _string(operation, f"{target}.operation").removeprefix("PhoneNumbers_")
        if operation not in OPERATIONS:
            raise bad_request(
                f"'{target}.operation' must be an operationId of the Phone Numbers API, such as "
                f"SearchAvailablePhoneNumbers or PurchasePhoneNumbers; '{data['operation']}' is not one.",
                target=f"{target}.operation",
            )
    if effect.acts_on_operation and operation not in LONG_RUNNING:
        raise bad_request(
            f"An operation effect needs '{target}.operation' to name an operation that starts a long-running "
            f"operation: {', '.join(sorted(LONG_RUNNING))}.",
            target=f"{target}.operation",
        )
    country = data.get("countryCode")
    phone = data.get("phoneNumber")
    probability = data.get("probability", 1.0)
    times = data.get("times")
    rule = Rule(
        id=rule_id,
        effect=effect,
        operation=operation,
        resource=None if data.get("resource") is None else _string(data["resource"], f"{target}.resource"),
        country_code=None if country is None else _string(
            country, f"{target}.countryCode", _COUNTRY, "an ISO 3166 alpha-2 country code in capitals, such as US"),
        phone_number=None if phone is None else _string(
            phone, f"{target}.phoneNumber", _GLOB, "an E.164 number or glob of digits, '+', '*', '?' and [...]"),
        probability=_number(probability, f"{target}.probability", low=0, high=1, low_open=True),
        times=None if times is None else _integer(times, f"{target}.times", low=1, high=2**31 - 1),
    )
    wire = {key: data[key] for key in ("operation", "resource", "countryCode", "phoneNumber", "times") if
            data.get(key) is not None}
    if operation is not None:
        wire["operation"] = operation
    wire["probability"] = rule.probability
    wire["effect"] = data["effect"]
    return replace(rule, wire=wire)


def parse_rules(body: Any, new_id: Callable[[], str]) -> list[Rule]:
    """The rules of a POST or PATCH body `{"rules": [...]}`, each validated; 400 naming the field otherwise."""
    data = _object(body, "body", {"rules"}) if isinstance(body, dict) else None
    if data is None or "rules" not in data:
        raise bad_request("The body must be an object with 'rules': a list of fault rules.", target="rules")
    rules = data["rules"]
    if not isinstance(rules, list):
        raise bad_request("'rules' must be a list of fault rules.", target="rules")
    if len(rules) > MAX_RULES:
        raise bad_request(f"At most {MAX_RULES} fault rules are allowed.", target="rules")
    return [parse_rule(rule, f"rules[{index}]", new_id()) for index, rule in enumerate(rules)]


def too_many_rules() -> AcsError:
    return bad_request(f"At most {MAX_RULES} fault rules are allowed.", target="rules")


# --- the per-process copy ---------------------------------------------------------------


class FaultBook:
    """This process's copy of the rules, checked against the store at most every `max_age` seconds.

    With no rules, `match` costs a clock read and a comparison, plus one small read of the
    version counter every `max_age` seconds.
    """

    def __init__(self, store: FaultStore | None = None, max_age: float = 0.2,
                 chance: Callable[[], float] = random.random) -> None:
        self.store = store
        self.max_age = max_age
        self._chance = chance
        self._rules: list[Rule] = []
        self._version = -1
        self._checked_at = -math.inf

    def idle(self) -> bool:
        """True when no rule is in place and the copy is fresh: a request has nothing to match."""
        return not self._rules and time.monotonic() - self._checked_at < self.max_age

    async def refresh(self, *, force: bool = False) -> None:
        if self.store is None or (not force and time.monotonic() - self._checked_at < self.max_age):
            return
        if force or await self.store.faults_version() != self._version:
            self._version, listed = await self.store.fault_rules()
            self._rules = [entry.rule for entry in listed if entry.times_left != 0]
        self._checked_at = time.monotonic()

    async def match(self, target: Target) -> Rule | None:
        """The first rule that matches `target` and wins its probability, its hit counted; None if none."""
        await self.refresh()
        if not self._rules:
            return None
        for rule in list(self._rules):
            if not rule.matches(target) or (rule.probability < 1.0 and self._chance() >= rule.probability):
                continue
            assert self.store is not None
            left = await self.store.claim_fault_hit(rule.id)
            if left is None or left == 0:  # spent, here or by another process
                self._rules = [r for r in self._rules if r.id != rule.id]
            if left is not None:
                return rule
        return None


# --- the effect on the operation a request starts ----------------------------------------

_planned: ContextVar[Effect | None] = ContextVar("numberpool_planned_fault", default=None)


@contextlib.contextmanager
def acting_on_operation(effect: Effect) -> Iterator[None]:
    """Within: the operation the request starts fails and/or takes as long as `effect` says."""
    token = _planned.set(effect)
    try:
        yield
    finally:
        _planned.reset(token)


def planned_failure() -> OperationFailure | None:
    """The failure a fault rule planned for the operation this request starts; None normally."""
    effect = _planned.get()
    return None if effect is None else effect.operation_failure


def planned_latency() -> float | None:
    """The operation latency a fault rule planned for this request's operation; None normally."""
    effect = _planned.get()
    return None if effect is None else effect.operation_latency_seconds
