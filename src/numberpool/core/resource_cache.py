"""Each process's copy of the resources and their opened keys, kept fresh from the store.

The HMAC check reads `ResourceCache.resources`, an attribute holding a tuple: no I/O and no
await on a request. A background task (`keep_fresh`) reads the keyring's generation every
`REFRESH_SECONDS` and reloads only when another process (or this one) changed a resource, so
a rotated or deleted key stops opening requests in every process within that time.
"""

from __future__ import annotations

import asyncio
import logging

from numberpool.core.model import Resource
from numberpool.core.resource_registry import ResourceRegistry, opened_resources

log = logging.getLogger("numberpool.resources")

REFRESH_SECONDS = 2.0
"""Below the promised 5 s, with room for one slow refresh."""


class ResourceCache:
    def __init__(self, registry: ResourceRegistry) -> None:
        self.registry = registry
        self.resources: tuple[Resource, ...] = ()
        self._generation: int | None = None

    async def refresh(self) -> bool:
        """Reload if the store's generation moved; returns whether it did."""
        async with self.registry.store.read() as tx:
            generation = await tx.resource_generation()
            if generation == self._generation:
                return False
            stored = await tx.list_resources()
        opened, failed = opened_resources(self.registry, stored)
        for line in failed:
            log.error("resource skipped: %s", line)
        self.resources = tuple(opened)
        self._generation = generation
        return True

    async def keep_fresh(self, every: float = REFRESH_SECONDS) -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await self.refresh()
            except Exception:  # the next round tries again; the last good copy keeps serving
                log.exception("refreshing the resources failed")
