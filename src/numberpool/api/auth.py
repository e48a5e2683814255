"""HMAC-SHA256 request authentication, exactly as the ACS SDKs sign.

The string to sign is `METHOD\\nPATH_AND_QUERY\\nDATE;HOST;CONTENT_HASH`, with the
values of the signed headers (`x-ms-date;host;x-ms-content-sha256`) in order.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Protocol
from urllib.parse import unquote

from numberpool.core.errors import AcsError
from numberpool.core.model import Resource

if TYPE_CHECKING:
    from numberpool.api.entra import EntraVerifier

DEFAULT_SKEW_SECONDS = 15 * 60
_REQUIRED_SIGNED = ("host", "x-ms-content-sha256")


def denied(reason: str) -> AcsError:
    return AcsError("Denied", f"Denied by the resource provider: {reason}", status=401)


def content_hash(body: bytes) -> str:
    if not body:
        return _EMPTY_BODY_HASH
    return base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


_EMPTY_BODY_HASH = base64.b64encode(hashlib.sha256(b"").digest()).decode("ascii")  # every GET and DELETE


def sign(key: bytes, string_to_sign: str) -> bytes:
    return hmac.digest(key, string_to_sign.encode("utf-8"), "sha256")  # one call into OpenSSL


class ResourceSource(Protocol):
    """Where the authenticator finds the resources: `core.resource_cache.ResourceCache` in a server."""

    resources: tuple[Resource, ...]


class FixedResources:
    def __init__(self, resources: Sequence[Resource]) -> None:
        self.resources = tuple(resources)


class Authenticator:
    def __init__(
        self, resources: ResourceSource | Sequence[Resource], skew_seconds: float = DEFAULT_SKEW_SECONDS,
        entra: EntraVerifier | None = None,
    ) -> None:
        """`resources`: a source whose `resources` attribute is read per request (no I/O: the cache swaps in
        a new tuple when resources change), or a fixed list. `entra`: accept Microsoft Entra ID bearer
        tokens too (`serve --entra`, api/entra.py)."""
        self._source = resources if hasattr(resources, "resources") else FixedResources(resources)  # type: ignore[arg-type]
        self._skew = skew_seconds
        self._entra = entra

    def authenticate(
        self, method: str, path_and_query: str, headers: Mapping[str, str], body: bytes, now: float
    ) -> Resource:
        """The resource whose key signed this request; raises a 401 AcsError otherwise."""
        authorization = headers.get("authorization")
        if not authorization:
            raise denied("the Authorization header is missing.")
        scheme, _, params = authorization.partition(" ")
        if scheme != "HMAC-SHA256":
            if scheme.lower() == "bearer":
                return self._bearer(params, headers)
            raise denied("only HMAC-SHA256 access-key authentication is supported.")
        fields = dict(part.partition("=")[::2] for part in params.strip().split("&"))
        signed = [name.strip().lower() for name in fields.get("SignedHeaders", "").split(";") if name.strip()]
        date_header = "x-ms-date" if "x-ms-date" in signed else "date"
        if date_header not in signed or any(name not in signed for name in _REQUIRED_SIGNED):
            raise denied("SignedHeaders must include x-ms-date, host and x-ms-content-sha256.")
        try:
            signature = base64.b64decode(fields.get("Signature", ""), validate=True)
        except ValueError:  # binascii.Error, or a non-ASCII character in the header
            raise denied("the signature is not valid base64.") from None
        values = []
        for name in signed:
            value = headers.get(name)
            if value is None:
                raise denied(f"the signed header {name} is missing.")
            values.append(value)
        self._check_date(headers[date_header], now)
        if not hmac.compare_digest(headers["x-ms-content-sha256"].encode(), content_hash(body).encode()):
            raise denied("the x-ms-content-sha256 header does not match the request body.")
        signed_values = ";".join(values)
        for candidate in _path_forms(path_and_query):
            string_to_sign = f"{method.upper()}\n{candidate}\n{signed_values}"
            for resource in self._source.resources:
                for key in resource.keys:
                    if hmac.compare_digest(sign(key, string_to_sign), signature):
                        return resource
        raise denied("the request signature does not match any access key.")

    def _bearer(self, token: str, headers: Mapping[str, str]) -> Resource:
        from numberpool.api import entra  # the JWT library is imported when the first bearer token comes

        if self._entra is None:
            raise entra.bearer_not_accepted()
        by_name = {resource.id.lower(): resource for resource in reversed(self._source.resources)}
        resource_id = self._entra.resource(token, headers, lambda name: _id_of(by_name.get(name.lower())))
        return by_name[resource_id.lower()]

    def _check_date(self, value: str, now: float) -> None:
        moment = _moment(value)
        if moment is None:
            raise denied("the x-ms-date header is not a valid HTTP date.")
        if abs(moment - now) > self._skew:
            raise denied("the x-ms-date header is outside the allowed clock skew.")


def _id_of(resource: Resource | None) -> str | None:
    return resource.id if resource else None


@functools.lru_cache(maxsize=1024)
def _moment(http_date: str) -> float | None:
    """Seconds since the epoch of an RFC 1123 date; cached, as clients send the same date for a second."""
    try:
        return parsedate_to_datetime(http_date).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _path_forms(path_and_query: str) -> tuple[str, ...]:
    """The path as received, and decoded: SDKs sign one or the other depending on transport."""
    if "%" not in path_and_query:
        return (path_and_query,)
    decoded = unquote(path_and_query)
    return (path_and_query,) if decoded == path_and_query else (path_and_query, decoded)
