"""What each request leaves behind: a sample in the HTTP histogram and one access log line.

The line carries the request's ids (see `request_ids`), its route template (never the raw path
or query), status, duration and resource: never a header, so never a key, signature or token.
"""

from __future__ import annotations

import logging
import time

from numberpool.api.metrics import Metrics
from numberpool.api.request_ids import RequestIds

ACCESS_LOG = logging.getLogger("numberpool.access")


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
        if ACCESS_LOG.isEnabledFor(logging.INFO):
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
