"""What each request leaves behind: a sample in the HTTP histogram and one access log line.

The line carries the request's ids (see `request_ids`), its route template (never the raw path
or query), status, duration and resource: never a header, so never a key, signature or token.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from numberpool.api.metrics import Metrics
from numberpool.api.request_ids import RequestIds

ACCESS_LOG = logging.getLogger("numberpool.access")

AccessLineWriter = Callable[[str, str, int, float, RequestIds, "str | None", "str | None", float], None]
_direct: list[AccessLineWriter | None] = [None]


def write_access_lines(writer: AccessLineWriter | None) -> None:
    """Access lines go to `writer` (method, route, status, duration ms, ids, resource, error code,
    epoch), not through a `LogRecord`: how the JSON log writes them (`server/logs.py`). None: records."""
    _direct[0] = writer


class Observer:
    def __init__(self, metrics: Metrics | None = None) -> None:
        self.metrics = metrics

    def finish(
        self,
        method: str,
        route: str,
        status: int,
        started: float,
        ids: RequestIds,
        resource: str | None = None,
        error_code: str | None = None,
    ) -> None:
        """Record the request that began at `started` (`time.perf_counter()`) and was answered `status`."""
        seconds = time.perf_counter() - started
        if self.metrics is not None:
            self.metrics.observe_request(method, route, status, seconds)
        if not ACCESS_LOG.isEnabledFor(logging.INFO):
            return
        direct = _direct[0]
        if direct is not None:
            direct(method, route, status, round(seconds * 1000, 3), ids, resource, error_code, time.time())
        else:
            # A record made directly: `Logger.info` would also walk the stack for the caller's
            # file and line, a third of the line's cost, to say what every access line says.
            record = logging.LogRecord(ACCESS_LOG.name, logging.INFO, __file__, 0, "%s %s %d",
                                       (method, route, status), None)
            record.access = True
            record.request_id = ids.request_id
            record.correlation_vector = ids.correlation_vector
            record.client_request_id = ids.client_request_id
            record.method = method
            record.route = route
            record.status = status
            record.duration_ms = round(seconds * 1000, 3)
            record.resource = resource
            record.error_code = error_code
            ACCESS_LOG.handle(record)
