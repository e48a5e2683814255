"""Exporting numbers as CSV lines: what `numberpool inventory export` prints and the admin API streams."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime, timezone

from numberpool.core.inventory_store import ExportFilter, ExportRow
from numberpool.core.storage import Store

EXPORT_COLUMNS = ("phoneNumber", "numberType", "areaCode", "locality", "administrativeDivision", "state",
                  "resource", "since", "cost", "currencyCode")


def _since(epoch: float | None) -> str:
    if epoch is None:
        return ""
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _cells(row: ExportRow) -> tuple[str, ...]:
    number, kind, area, town, division, state, owner, since, cost, currency = row
    return (number, kind, area, town or "", division or "", state, owner or "", _since(since),
            "" if cost is None else repr(float(cost)), currency or "")


async def export_csv(store: Store, where: ExportFilter) -> AsyncIterator[str]:
    """The header line, then the numbers `where` selects in number order, a batch of lines at a time."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    yield text.getvalue()
    async for rows in store.inventory().export(where):
        text.seek(0)
        text.truncate()
        writer.writerows(_cells(row) for row in rows)
        yield text.getvalue()
