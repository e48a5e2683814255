"""Development Microsoft Entra ID tokens: what `numberpool token` prints and test suites use.

A development token has the claims a real Entra ID access token for ACS has (`aud`, `iss`, `nbf`,
`exp`, a tenant and an object id) and no signature (`alg: none`): `serve --entra` accepts it because
that mode checks claims only; a server started with `--entra-jwks` refuses it.
"""

from __future__ import annotations

import math
import re
import time
import uuid

import jwt

from numberpool.api.entra import AUDIENCE, RESOURCE_CLAIM

# Well-known ids of the development identity, like the development access key: public and fixed.
DEV_TENANT_ID = "00000000-0000-4000-8000-00006e756d62"
DEV_OBJECT_ID = "00000000-0000-4000-8000-000064657669"
ISSUER = f"https://sts.windows.net/{DEV_TENANT_ID}/"
MAX_MINUTES = 366 * 24 * 60.0
_RESOURCE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}")


def development_token(resource: str | None = None, minutes: float = 60, *, now: float | None = None) -> str:
    """An unsigned Entra ID access token for ACS, valid for `minutes` from `now` (default: this machine's clock).

    `resource`: the resource it is for; it then acts only as that resource. None: it acts as the
    resource the request's host names (`<resource>.localhost`), else as the development resource.
    A service whose test clock was moved judges validity by the service time: pass `now` to match it.
    """
    if isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or not math.isfinite(minutes) \
            or not 0 < minutes <= MAX_MINUTES:
        raise ValueError(f"--minutes must be more than 0 and at most {MAX_MINUTES:.0f}")
    if resource is not None and not _RESOURCE_ID.fullmatch(resource):
        raise ValueError(f"--resource {resource!r}: a resource id is letters, digits, '-' and '_'")
    issued = math.floor(time.time() if now is None else now)
    claims: dict[str, object] = {
        "aud": AUDIENCE,
        "iss": ISSUER,
        "iat": issued,
        "nbf": issued,
        "exp": issued + max(1, round(minutes * 60)),
        "tid": DEV_TENANT_ID,
        "oid": DEV_OBJECT_ID,
        "sub": DEV_OBJECT_ID,
        "name": "numberpool development identity",
        "uti": uuid.uuid4().hex,
    }
    if resource is not None:
        claims[RESOURCE_CLAIM] = resource
    return jwt.encode(claims, None, algorithm="none")
