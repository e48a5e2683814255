"""Countries and offerings, read once and kept for a few seconds.

They change only when an operator loads a catalog, yet every search needs them:
reading them inside each search transaction was two queries per search. A short
time-to-live keeps several processes in step with a catalog change without any
signalling between them.
"""

from __future__ import annotations

import time

from numberpool.core.model import Country, Offering
from numberpool.core.storage import Store

CATALOG_TTL_SECONDS = 5.0


class CatalogCache:
    def __init__(self, ttl: float = CATALOG_TTL_SECONDS) -> None:
        self._ttl = ttl
        self._countries: tuple[float, dict[str, Country]] | None = None
        self._offerings: dict[str, tuple[float, list[Offering]]] = {}

    async def country(self, store: Store, code: str) -> Country | None:
        if self._countries is None or time.monotonic() - self._countries[0] > self._ttl:
            async with store.read() as tx:
                self._countries = (time.monotonic(), {c.code: c for c in await tx.countries()})
        return self._countries[1].get(code)

    async def offerings(self, store: Store, country: str) -> list[Offering]:
        cached = self._offerings.get(country)
        if cached is None or time.monotonic() - cached[0] > self._ttl:
            async with store.read() as tx:
                cached = (time.monotonic(), await tx.offerings(country))
            self._offerings[country] = cached
        return cached[1]
