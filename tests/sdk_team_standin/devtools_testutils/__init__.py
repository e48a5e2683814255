"""Stand-in for the SDK team's `devtools_testutils`: live only, no test proxy, no recordings.

The real package routes every request through a recording proxy and replays recordings
offline. Here every test talks to the numberpool server named by the environment, so the
decorators only call the test, and the sanitizers have no recording to clean.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

PLAYBACK_REFUSED = (
    "this stand-in has no recordings to play back: run live (AZURE_TEST_RUN_LIVE=true) against a numberpool server"
)


def is_live() -> bool:
    """The real helper's rule: live when AZURE_TEST_RUN_LIVE is true/yes."""
    return os.environ.get("AZURE_TEST_RUN_LIVE", "").lower() in ("true", "yes")


def recorded_by_proxy(test_func: Callable[..., Any]) -> Callable[..., Any]:
    """Run the test as it is (live): there is no proxy to record through."""

    @functools.wraps(test_func)
    def run_live(*args: Any, **kwargs: Any) -> Any:
        if not is_live():
            raise RuntimeError(PLAYBACK_REFUSED)
        return test_func(*args, **kwargs)

    return run_live


def _nothing_to_sanitize(**_: Any) -> None:
    """Sanitizers rewrite recordings; live runs against numberpool record nothing."""


add_general_regex_sanitizer = _nothing_to_sanitize
add_general_string_sanitizer = _nothing_to_sanitize
add_body_key_sanitizer = _nothing_to_sanitize


class AzureRecordedTestCase:
    """Base class of the SDK team's test classes: only the live/playback switch is used."""

    @property
    def is_live(self) -> bool:
        return is_live()

    def is_playback(self) -> bool:
        return not is_live()
