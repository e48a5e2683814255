"""An httpx auth that signs requests the way the ACS SDKs do, for raw-HTTP tests."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Generator
from email.utils import formatdate

import httpx


def sign_headers(method: str, path_and_query: str, host: str, body: bytes, key: str,
                 date: str | None = None) -> dict[str, str]:
    date = date or formatdate(usegmt=True)
    content_hash = base64.b64encode(hashlib.sha256(body).digest()).decode()
    string_to_sign = f"{method.upper()}\n{path_and_query}\n{date};{host};{content_hash}"
    signature = base64.b64encode(
        hmac.new(base64.b64decode(key), string_to_sign.encode(), hashlib.sha256).digest()
    ).decode()
    return {
        "x-ms-date": date,
        "x-ms-content-sha256": content_hash,
        "Authorization": f"HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={signature}",
    }


class HmacAuth(httpx.Auth):
    requires_request_body = True

    def __init__(self, key: str) -> None:
        self.key = key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        target = request.url.raw_path.decode("ascii")
        request.headers.update(
            sign_headers(request.method, target, request.url.netloc.decode("ascii"), request.content, self.key)
        )
        yield request
