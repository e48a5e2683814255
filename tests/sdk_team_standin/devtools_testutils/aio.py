"""Stand-in for `devtools_testutils.aio`: the async decorator, live only."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from devtools_testutils import PLAYBACK_REFUSED, is_live


def recorded_by_proxy_async(test_func: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """Await the test as it is (live): there is no proxy to record through."""

    @functools.wraps(test_func)
    async def run_live(*args: Any, **kwargs: Any) -> Any:
        if not is_live():
            raise RuntimeError(PLAYBACK_REFUSED)
        return await test_func(*args, **kwargs)

    return run_live
