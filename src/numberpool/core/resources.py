"""ACS resources (tenants) and their access keys."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from numberpool.core.model import Resource

DEV_RESOURCE_ID = "devresource"
# The well-known development key, like Azurite's development account key: public,
# documented, and only good for a numberpool you run yourself.
DEV_ACCESS_KEY = "76ALReWbKYTvnI0s7vIro0YIafj8MsVKBd5ltjQCqve5t+vA65wL2s+Vu6WDtj/hxsO9Bp214EK9vdY3qNo2kw=="


# Letters, digits, '.', '_' and '-', starting with a letter or digit: safe in a URL path segment,
# a log line and a CSV cell.
RESOURCE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")


@dataclass(frozen=True)
class ResourceSpec:
    """A resource as configured: an id and its base64 access keys (primary first)."""

    id: str
    keys: tuple[str, ...]

    def to_resource(self) -> Resource:
        if not RESOURCE_ID.fullmatch(self.id):
            raise ValueError(
                f"resource id {self.id!r}: use 1 to 63 letters, digits, '.', '_' or '-', starting with a letter or digit"
            )
        if len(self.keys) > 2:
            raise ValueError(f"resource {self.id!r}: at most two access keys (primary, secondary)")
        decoded = []
        for key in self.keys:
            try:
                decoded.append(base64.b64decode(key, validate=True))
            except (binascii.Error, ValueError):
                raise ValueError(f"resource {self.id!r}: access key is not valid base64") from None
            if not decoded[-1]:
                raise ValueError(f"resource {self.id!r}: an access key is empty")
        if not decoded:
            raise ValueError(f"resource {self.id!r} has no access key")
        return Resource(self.id, tuple(decoded))


DEV_RESOURCE = ResourceSpec(DEV_RESOURCE_ID, (DEV_ACCESS_KEY,))


def parse_resource_flag(text: str) -> ResourceSpec:
    """`NAME=KEY[,SECONDARY_KEY]` from the command line."""
    name, sep, keys = text.partition("=")
    if not sep or not name or not keys:
        raise ValueError(f"expected NAME=KEY[,SECONDARY_KEY], got {text!r}")
    spec = ResourceSpec(name, tuple(k for k in keys.split(",") if k))
    spec.to_resource()
    return spec
