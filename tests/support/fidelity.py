"""The table of the real service's recorded answers (tests/data/fidelity.toml) and how a replay is judged.

A row names an operation, a condition, the request that reaches it and the answer the
service gave. `replay_versions` says at which api-versions a row is replayed; `judge`
compares one numberpool response with the row and says, per dimension (status, code,
target, message, shape), whether they agree.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from numberpool.api.versions import ACCEPTED, ApiVersion

TABLE = Path(__file__).resolve().parents[1] / "data" / "fidelity.toml"

# The versions feature that an operation needs (the others exist at every version).
OPERATION_FEATURE = {
    "PhoneNumbers_ListAvailableCountries": "catalog",
    "PhoneNumbers_ListAvailableLocalities": "catalog",
    "PhoneNumbers_ListOfferings": "catalog",
    "PhoneNumbers_ListAreaCodes": "catalog",
    "PhoneNumbers_OperatorInformationSearch": "operator_information",
    "PhoneNumbers_BrowseAvailableNumbers": "reservations",
    "PhoneNumbers_ListReservations": "reservations",
    "PhoneNumbers_GetReservation": "reservations",
    "PhoneNumbers_CreateOrUpdateReservation": "reservations",
    "PhoneNumbers_StartReservationPurchase": "reservations",
}
DIMENSIONS = ("status", "code", "target", "message", "shape")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def load() -> list[dict[str, Any]]:
    with TABLE.open("rb") as handle:
        rows: list[dict[str, Any]] = tomllib.load(handle)["rows"]
    return rows


def _matches(version: str, requirement: str) -> bool:
    """`versions_with`: comma-separated feature names, or `feature=value`, all of which must hold."""
    features = ApiVersion(version).features
    for clause in requirement.split(","):
        name, _, wanted = clause.partition("=")
        value = getattr(features, name.strip())
        if (str(value) != wanted) if wanted else not value:
            return False
    return True


def replay_versions(row: dict[str, Any]) -> list[str]:
    """Where to replay: the recorded versions, and every served version the row applies to."""
    versions = set(row["recorded_versions"])
    feature = OPERATION_FEATURE.get(row["operation"])
    if row.get("every_version"):
        versions |= {v for v in ACCEPTED if feature is None or getattr(ApiVersion(v).features, feature)}
    if "versions_with" in row:
        versions |= {v for v in ACCEPTED if _matches(v, row["versions_with"])}
    return sorted(versions)


def render(template: Any, values: dict[str, str]) -> Any:
    """The template with the request's values put in (strings, and strings inside lists and tables)."""
    if template == "{null}":  # TOML has no null
        return None
    if isinstance(template, str):
        return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)
    if isinstance(template, list):
        return [render(item, values) for item in template]
    if isinstance(template, dict):
        return {render(k, values): render(item, values) for k, item in template.items()}
    return template


@dataclass
class Verdict:
    row: str
    version: str
    agreed: dict[str, bool] = field(default_factory=dict)
    """dimension -> agreement, for the dimensions the row has."""
    notes: list[str] = field(default_factory=list)

    def fail(self, dimension: str, note: str) -> None:
        self.agreed[dimension] = False
        self.notes.append(f"{dimension}: {note}")


def judge(row: dict[str, Any], version: str, response: httpx.Response, values: dict[str, str]) -> Verdict:
    verdict = Verdict(row["id"], version)
    verdict.agreed["status"] = response.status_code == row["status"]
    if not verdict.agreed["status"]:
        verdict.notes.append(f"status: {response.status_code} != {row['status']}: {response.text[:300]}")
    if "code" in row:
        _judge_error(row, response, values, verdict)
    else:
        _judge_success(row, response, values, verdict)
    return verdict


def _judge_error(row: dict[str, Any], response: httpx.Response, values: dict[str, str], verdict: Verdict) -> None:
    try:
        error = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        for dimension in ("code", "target", "message"):
            verdict.fail(dimension, f"no ACS error body: {response.text[:200]}")
        return
    verdict.agreed["code"] = error.get("code") == row["code"]
    if not verdict.agreed["code"]:
        verdict.notes.append(f"code: {error.get('code')!r} != {row['code']!r}")
    verdict.agreed["target"] = error.get("target") == row.get("target")
    if not verdict.agreed["target"]:
        verdict.notes.append(f"target: {error.get('target')!r} != {row.get('target')!r}")
    wanted = render(row["message"], values)
    agreed = error.get("message") == wanted
    if "innererror" in row:
        inner = render(row["innererror"], values)
        agreed = agreed and error.get("innererror") == inner
    if row.get("inner_error_null"):
        agreed = agreed and "innerError" in error and error["innerError"] is None and "innererror" not in error
    verdict.agreed["message"] = agreed
    if not agreed:
        verdict.notes.append(f"message: {error!r} != {wanted!r} / {row.get('innererror')!r}")


def _judge_success(row: dict[str, Any], response: httpx.Response, values: dict[str, str], verdict: Verdict) -> None:
    problems = []
    for name, value in render(row.get("headers", {}), values).items():
        if name not in response.headers:
            problems.append(f"header {name} missing")
        elif value and response.headers[name] != value:
            problems.append(f"header {name}: {response.headers[name]!r} != {value!r}")
    for name in row.get("absent_headers", []):
        if name in response.headers:
            problems.append(f"header {name} sent: {response.headers[name]!r}")
    if row.get("empty_body") and response.content:
        problems.append(f"body not empty: {response.content[:200]!r}")
    if "keys" in row or "values" in row or "nulls" in row:
        body = response.json()
        if "first_of" in row:  # the shape of a list's first item
            items = body.get(row["first_of"]) or [{}]
            body = items[0]
        if "keys" in row and set(body) != set(row["keys"]):
            problems.append(f"keys {sorted(body)} != {sorted(row['keys'])}")
        for key in row.get("nulls", []):
            if key not in body or body[key] is not None:
                problems.append(f"{key} is not present with null")
        for key, value in render(row.get("values", {}), values).items():
            if _lookup(body, key) != value:
                problems.append(f"{key}: {_lookup(body, key)!r} != {value!r}")
    verdict.agreed["shape"] = not problems
    verdict.notes += [f"shape: {p}" for p in problems]


def _lookup(body: Any, key: str) -> Any:
    """A value by key, or by a dotted path into nested objects (`phoneNumbers.14255550100.error.code`)."""
    for part in key.split("."):
        body = body.get(part) if isinstance(body, dict) else None
    return body


def rates(verdicts: list[Verdict], rows: dict[str, dict[str, Any]]) -> dict[str, tuple[int, int]]:
    """dimension -> (agreed, total); messages split by whether the recording's text was sanitised."""
    totals: dict[str, list[int]] = {}
    for verdict in verdicts:
        for dimension, agreed in verdict.agreed.items():
            if dimension == "message":
                dimension = "message (sanitised)" if rows[verdict.row].get("sanitised") else "message"
            tally = totals.setdefault(dimension, [0, 0])
            tally[0] += agreed
            tally[1] += 1
    return {k: (v[0], v[1]) for k, v in totals.items()}
