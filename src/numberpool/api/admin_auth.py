"""The admin token: what opens `/_numberpool/` (admin API, console, testing controls).

The token is compared in constant time. Without a configured token every admin path answers
404, as if it did not exist; a resource's access key never opens it, and the admin token never
opens the ACS API (the HMAC check in `api.auth` knows nothing of it).
"""

from __future__ import annotations

import hmac

from numberpool.core.errors import AcsError

ADMIN_PREFIX = "/_numberpool/"

# The well-known development admin token that `serve --testing` uses when none is given,
# like the development access key: public, documented, only good for a numberpool you run yourself.
DEV_ADMIN_TOKEN = "numberpool-development-admin-token"


def not_found(path: str) -> AcsError:
    return AcsError("NotFound", f"No resource exists at {path}.", status=404)


def check_admin(authorization: str | None, token: str | None, path: str) -> None:
    """Raise the ACS-shaped error for a request to an admin `path` that `token` does not open.

    `authorization` is the request's `Authorization` header; `token` the configured admin token
    (None: the admin surface does not exist, 404).
    """
    if not token:
        raise not_found(path)
    scheme, _, presented = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        raise AcsError("Unauthorized", "An admin token is required: 'Authorization: Bearer <admin token>'.",
                       status=401)
    if not hmac.compare_digest(presented.strip().encode("utf-8"), token.encode("utf-8")):
        raise AcsError("Unauthorized", "The admin token is not valid.", status=401)
