"""Unique ids without a random draw each: a random prefix per process, then a counter.

`uuid.uuid4()` reads the system's random source and builds a `UUID` object every call; on the
search path that was 2.5 % of a search's CPU (py-spy, bench/README.md). Here each process draws
74 random bits once (again in a forked child, so workers never repeat their parent's ids) and
numbers its ids after them: every id is still a well-formed version-4 UUID (version and variant
bits set), unique across processes and restarts as long as two processes never draw the same
74 bits, and no two ids of one process are alike until its 48-bit counter wraps.
"""

from __future__ import annotations

import itertools
import os
import uuid


class UniqueIds:
    """This process's random prefixes and id counter."""

    def __init__(self) -> None:
        self.reseed()
        os.register_at_fork(after_in_child=self.reseed)

    def reseed(self) -> None:
        random_id = str(uuid.uuid4())  # version and variant bits set; its last 12 hex digits become the counter
        self.uuid_prefix = random_id[:24]
        self.random_bytes = os.urandom(8)
        self.counter = itertools.count(int.from_bytes(os.urandom(4), "big"))  # no two processes start at 0 alike

    def next_uuid(self) -> str:
        return f"{self.uuid_prefix}{next(self.counter) & 0xFFFF_FFFF_FFFF:012x}"


UNIQUE_IDS = UniqueIds()
