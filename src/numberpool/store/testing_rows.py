"""Fault rules as stored (either engine): the rule as JSON, rebuilt through the core's validation."""

from __future__ import annotations

import json
from typing import Any

from numberpool.core.faults import ListedRule, Rule, parse_rule

# What a reset puts back in a number row: its seeded or imported state, nobody's.
FREE_NUMBER = (
    "state = 'available', holder = NULL, hold_expires_at = NULL, owner = NULL, assignment = NULL,"
    " calling = NULL, sms = NULL, cost = NULL, currency = NULL, purchased_at = NULL, aging_until = NULL"
)


def rule_to_row(rule: Rule) -> tuple[str, str | None, str, int | None]:
    """(id, resource, rule JSON, times_left)."""
    return rule.id, rule.resource, json.dumps(rule.wire, separators=(",", ":")), rule.times


def listed_from_row(rule_id: str, rule_json: str, hits: int, times_left: int | None) -> ListedRule:
    data: Any = json.loads(rule_json)
    return ListedRule(parse_rule(data, "rule", rule_id), int(hits), None if times_left is None else int(times_left))
