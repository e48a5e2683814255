"""The ceiling: the least an ASGI app can do to answer a search.

It returns the same 202 and headers as numberpool's `POST :search`, without
authentication, parsing or storage, served by the same ASGI server with the same
settings. Whatever numberpool spends above this is its own.
"""

from __future__ import annotations

import uuid

_HEADERS_TEMPLATE = [
    (b"access-control-expose-headers", b"Location,Operation-Location,operation-id,search-id"),
    (b"content-length", b"0"),
]


async def app(scope, receive, send):  # type: ignore[no-untyped-def]
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    more = True
    while more:  # drain the request body, as any real handler must
        message = await receive()
        more = message.get("more_body", False)
    search_id = str(uuid.uuid4()).encode()
    version = b"2025-06-01"
    headers = [
        *_HEADERS_TEMPLATE,
        (b"location", b"/availablePhoneNumbers/searchResults/" + search_id + b"?api-version=" + version),
        (b"operation-location", b"/phoneNumbers/operations/search_" + search_id + b"?api-version=" + version),
        (b"operation-id", b"search_" + search_id),
        (b"search-id", search_id),
    ]
    await send({"type": "http.response.start", "status": 202, "headers": headers})
    await send({"type": "http.response.body", "body": b""})
