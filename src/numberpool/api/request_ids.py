"""Request ids, as ACS and the Azure REST API guidelines send them.

Every response carries `x-ms-request-id` (a UUID naming this request) and `MS-CV` (a
correlation vector: 22 base64 characters, then `.0`; a client's own vector is extended with
`.0`), and echoes the client's `x-ms-client-request-id`. azure-core's logging policy prints
all three, so a client's log line and the service's log line of one request can be matched.

The ids are unique without a random draw per request (`os.urandom` and `uuid.UUID` were about a
quarter of what the operations surface costs a request): each process draws a random prefix
once (again in a forked child) and numbers its requests after it (`core/unique_ids.py`, which
also numbers searches, operations and purchases). A request id stays a version-4 UUID (74
random bits per process, then a 48-bit counter), a vector 22 base64 characters (64 random bits,
then a 64-bit counter).
"""

from __future__ import annotations

import base64
import contextvars
import re
from dataclasses import dataclass

from numberpool.core.unique_ids import UNIQUE_IDS

REQUEST_ID = "x-ms-request-id"
CORRELATION_VECTOR = "ms-cv"
CLIENT_REQUEST_ID = "x-ms-client-request-id"
ERROR_CODE = "x-ms-error-code"

_MAX_VECTOR = 127  # the correlation vector specification's limit (version 2)
_VECTOR = re.compile(r"[A-Za-z0-9+/]{16,22}(\.[0-9]+)+")
_MAX_CLIENT_REQUEST_ID = 256

CURRENT_REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
"""The id of the request being answered, for every log line written while answering it."""


@dataclass(slots=True)
class RequestIds:
    request_id: str
    correlation_vector: str
    client_request_id: str | None

    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        headers = [
            (b"x-ms-request-id", self.request_id.encode("latin-1")),
            (b"MS-CV", self.correlation_vector.encode("latin-1")),
        ]
        if self.client_request_id is not None:
            headers.append((b"x-ms-client-request-id", self.client_request_id.encode("latin-1")))
        return headers


def request_ids(headers: dict[str, str]) -> RequestIds:
    """New ids for the request whose headers (by lower-case name) are `headers`."""
    sequence = UNIQUE_IDS
    count = next(sequence.counter)
    vector = headers.get(CORRELATION_VECTOR)
    if vector is not None and len(vector) + 2 <= _MAX_VECTOR and _VECTOR.fullmatch(vector):
        vector += ".0"
    else:
        vector = base64.b64encode(sequence.random_bytes + count.to_bytes(8, "big"))[:22].decode("ascii") + ".0"
    client = headers.get(CLIENT_REQUEST_ID)
    if client is not None and len(client) > _MAX_CLIENT_REQUEST_ID:
        client = client[:_MAX_CLIENT_REQUEST_ID]
    return RequestIds(f"{sequence.uuid_prefix}{count & 0xFFFF_FFFF_FFFF:012x}", vector, client)
