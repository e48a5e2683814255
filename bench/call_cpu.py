"""CPU per `Api.call` of a signed search (authentication, body, api-version), in process, for the tree on `sys.path`.

    PYTHONPATH=/tmp/base/src:. python -m bench.call_cpu     # the other tree
    python -m bench.call_cpu                               # this one

The request path's own work, without a server, socket or store: a figure steady enough to
judge a cut of a few microseconds that wrk's req/s on a shared machine cannot resolve.
Prints microseconds of this process's CPU per call (after a warm-up).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

from starlette.requests import Request

from numberpool.api.auth import Authenticator
from numberpool.api.call import Api
from numberpool.core.context import Context
from numberpool.core.resources import DEV_ACCESS_KEY, DEV_RESOURCE
from tests.support.hmac_auth import sign_headers

PATH, QUERY, HOST = "/availablePhoneNumbers/countries/US/:search", "api-version=2025-06-01", "127.0.0.1:8080"
BODY = json.dumps({"phoneNumberType": "geographic", "assignmentType": "application",
                   "capabilities": {"calling": "inbound+outbound", "sms": "none"}, "quantity": 1}).encode()


async def measure(calls: int) -> float:
    headers = {"content-type": "application/json", "host": HOST, "content-length": str(len(BODY)),
               **{k.lower(): v for k, v in sign_headers("POST", f"{PATH}?{QUERY}", HOST, BODY, DEV_ACCESS_KEY).items()}}
    raw = [(name.encode(), value.encode()) for name, value in headers.items()]
    api = Api(Context(store=None), Authenticator([DEV_RESOURCE.to_resource()]))  # type: ignore[arg-type]

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": BODY, "more_body": False}

    async def once() -> None:
        scope = {"type": "http", "method": "POST", "path": PATH, "raw_path": PATH.encode(),
                 "query_string": QUERY.encode(), "headers": raw, "scheme": "http", "server": ("127.0.0.1", 8080),
                 "root_path": ""}
        await api.call(Request(scope, receive))

    for _ in range(2_000):
        await once()
    cpu = time.process_time()
    for _ in range(calls):
        await once()
    return 1e6 * (time.process_time() - cpu) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=20_000)
    print(f"{asyncio.run(measure(parser.parse_args().calls)):.1f}")


if __name__ == "__main__":
    main()
