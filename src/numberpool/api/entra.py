"""Microsoft Entra ID bearer tokens on the ACS routes (`serve --entra`).

Two modes:
- basic (`--entra`), as Azurite's `--oauth basic`: the token must be a JWT whose `aud` is the ACS
  audience, whose `iss` is an Entra ID issuer, and whose `nbf`/`exp` hold the service clock's now
  (the test clock moves it; no skew is allowed). Its signature is NOT checked: anyone can mint a
  token this mode accepts (`numberpool token`). For development and tests only.
- signed (`--entra-jwks FILE|URL`): the same claims, and an RS256 or ES256 signature by a key of the
  JWK Set (`kid` chooses the key), for operators who put numberpool behind real identities.

Which resource a token acts as is decided by the request's host: `<resource>.localhost` names that
resource; any other host (`127.0.0.1`, `localhost`, a load balancer's name) names none, and the
token acts as the resource its `numberpool_resource` claim names (development tokens minted with
`--resource`), else as the development resource. A token minted for one resource never acts as
another, and no token acts as a resource that does not exist.

Tokens are never logged or echoed in an error.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jwt

from numberpool.api import auth
from numberpool.core.errors import AcsError
from numberpool.core.resources import DEV_RESOURCE_ID

AUDIENCE = "https://communication.azure.com"
AUDIENCES = (AUDIENCE, AUDIENCE + "/")
ISSUER_PREFIXES = ("https://sts.windows.net/", "https://login.microsoftonline.com/")
SIGNATURE_ALGORITHMS = ("RS256", "ES256")
RESOURCE_CLAIM = "numberpool_resource"
"""The resource a development token was minted for (`numberpool token --resource`)."""
HOST_SUFFIX = ".localhost"

# A key set fetched from a URL is kept this long, and fetched again at most once per cooldown when a
# token names a key it does not hold (a rotation). The fetch blocks the request that triggers it, up
# to the timeout: it happens about once an hour.
JWKS_LIFESPAN_SECONDS = 3600.0
JWKS_COOLDOWN_SECONDS = 60.0
JWKS_TIMEOUT_SECONDS = 5.0


def denied(reason: str, status: int = 401) -> AcsError:
    """The access-key check's refusal (`auth.denied`), for a token; 403 when the token is good but not here."""
    error = auth.denied(reason)
    error.status = status
    return error


def bearer_not_accepted() -> AcsError:
    """A bearer token sent to a server started without `--entra`."""
    return denied("bearer tokens are not accepted; start numberpool with --entra to accept "
                  "Microsoft Entra ID tokens, or sign requests with an access key (HMAC-SHA256).")


class KeySet:
    """The JWK Set that signed tokens must match: a file read once, or a URL fetched and cached."""

    def __init__(self, source: str) -> None:
        """Reads a file at once (ValueError naming it); a URL is fetched when first needed (`check`)."""
        self.source = source
        self._client: jwt.PyJWKClient | None = None
        self._keys: jwt.PyJWKSet | None = None
        if is_url(source):
            try:
                self._client = jwt.PyJWKClient(source, cache_jwk_set=True, lifespan=JWKS_LIFESPAN_SECONDS,
                                               timeout=JWKS_TIMEOUT_SECONDS, cooldown_duration=JWKS_COOLDOWN_SECONDS)
            except jwt.PyJWTError as exc:
                raise ValueError(f"--entra-jwks {source}: {exc}") from None
        else:
            self._keys = load_key_file(Path(source))

    def check(self) -> None:
        """Fetch a URL's key set now: ValueError naming the URL when it cannot be had or holds no usable key."""
        if self._client is not None:
            try:
                _signing_keys(self._client.get_jwk_set(refresh=True), self.source)
            except jwt.PyJWTError as exc:
                raise ValueError(f"--entra-jwks {self.source}: {exc}") from None

    def key(self, kid: str | None) -> jwt.PyJWK:
        """The key that `kid` names; without a `kid`, the set's only key."""
        if self._client is not None:
            try:
                if kid is not None:
                    return self._client.get_signing_key(kid)
                keys = _signing_keys(self._client.get_jwk_set(), self.source)
            except jwt.PyJWKClientConnectionError:
                raise denied("the configured key set could not be fetched to check the token's signature.") from None
            except (jwt.PyJWTError, ValueError):
                raise denied("no key of the configured key set matches the token's kid.") from None
        else:
            assert self._keys is not None
            keys = [k for k in _signing_keys(self._keys, self.source) if kid is None or k.key_id == kid]
        if not keys:
            raise denied("no key of the configured key set matches the token's kid.")
        if kid is None and len(keys) != 1:
            raise denied("the token has no kid header, and the key set holds more than one key.")
        return keys[0]


def is_url(source: str) -> bool:
    return source.lower().startswith(("https://", "http://"))


def load_key_file(path: Path) -> jwt.PyJWKSet:
    """A JWK Set file (`{"keys": [...]}`); ValueError naming the file when it is not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"--entra-jwks {path}: {exc.strerror or exc}") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise ValueError(f"--entra-jwks {path}: not JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise ValueError(f"--entra-jwks {path}: not a JWK Set: expected an object with a 'keys' list")
    try:
        key_set = jwt.PyJWKSet.from_dict(data)
    except jwt.PyJWTError as exc:
        raise ValueError(f"--entra-jwks {path}: {exc}") from None
    _signing_keys(key_set, str(path))
    return key_set


def _signing_keys(key_set: jwt.PyJWKSet, source: str) -> list[jwt.PyJWK]:
    keys = [k for k in key_set.keys if k.algorithm_name in SIGNATURE_ALGORITHMS and k.public_key_use in ("sig", None)]
    if not keys:
        raise ValueError(f"--entra-jwks {source}: the key set holds no RS256 or ES256 signing key")
    return keys


class EntraVerifier:
    """Checks a bearer token and says which resource it acts as."""

    def __init__(self, now: Callable[[], float], *, https: bool, keys: KeySet | None = None) -> None:
        """`now`: the service clock (seconds since the epoch); `https`: whether the server speaks TLS."""
        self._now = now
        self._https = https
        self._keys = keys

    def resource(self, authorization_params: str, headers: Mapping[str, str], exists: Callable[[str], str | None]) -> str:
        """The id of the resource this token acts as; a 401/403 AcsError otherwise.

        `exists(name)` gives the id of the resource called `name` (case-insensitively), or None.
        """
        if not self._https:
            raise denied("bearer tokens are accepted only over HTTPS.")
        claims = self.claims(authorization_params.strip())
        minted_for = claims.get(RESOURCE_CLAIM)
        if minted_for is not None and not isinstance(minted_for, str):
            raise denied(f"the token's {RESOURCE_CLAIM} claim is not a string.")
        wanted = resource_named_by_host(headers.get("host")) or minted_for or DEV_RESOURCE_ID
        resource_id = exists(wanted)
        if resource_id is None:
            raise denied(f"there is no resource '{_shown(wanted)}' on this server.")
        if minted_for is not None and exists(minted_for) != resource_id:
            raise denied(f"the token was issued for resource '{_shown(minted_for)}', not '{resource_id}'.", status=403)
        return resource_id

    def claims(self, token: str) -> dict[str, Any]:
        """The token's claims once every check has passed; raises a 401 AcsError naming the first that failed."""
        if not token or token.count(".") != 2:
            raise denied("the bearer token is not a JWT (three base64url parts separated by dots).")
        try:
            header = jwt.get_unverified_header(token)
            if self._keys is None:
                claims = jwt.decode(token, options={"verify_signature": False})
            else:
                claims = self._verified(token, header)
        except jwt.InvalidSignatureError:
            raise denied("the token's signature does not match its key in the configured key set.") from None
        except jwt.PyJWTError:
            raise denied("the bearer token is not a well-formed JWT.") from None
        _check_claims(claims, self._now())
        return claims

    def _verified(self, token: str, header: dict[str, Any]) -> dict[str, Any]:
        assert self._keys is not None
        algorithm = header.get("alg")
        if algorithm not in SIGNATURE_ALGORITHMS:
            raise denied(f"the token must be signed with {' or '.join(SIGNATURE_ALGORITHMS)}.")
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise denied("the token's kid header is not a string.")
        key = self._keys.key(kid)
        if key.algorithm_name != algorithm:
            raise denied(f"the token is signed with {algorithm}, but its key is for {key.algorithm_name}.")
        return jwt.decode(token, key=key.key, algorithms=[algorithm],
                          options={"verify_signature": True, "verify_exp": False, "verify_nbf": False,
                                   "verify_iat": False, "verify_aud": False, "verify_iss": False,
                                   "verify_sub": False, "verify_jti": False})


def _check_claims(claims: Mapping[str, Any], now: float) -> None:
    audiences = claims.get("aud")
    if isinstance(audiences, str):
        audiences = [audiences]
    if not isinstance(audiences, list) or not any(a in AUDIENCES for a in audiences if isinstance(a, str)):
        raise denied(f"the token's audience (aud) must be {AUDIENCE}.")
    issuer = claims.get("iss")
    if not isinstance(issuer, str) or not issuer.startswith(ISSUER_PREFIXES):
        raise denied(f"the token's issuer (iss) must start with {' or '.join(ISSUER_PREFIXES)}.")
    not_before, expires = _moment(claims, "nbf"), _moment(claims, "exp")
    if now < not_before:
        raise denied(f"the token is not valid before {_iso(not_before)} (service time {_iso(now)}).")
    if now > expires:
        raise denied(f"the token expired at {_iso(expires)} (service time {_iso(now)}).")


def _shown(name: str, limit: int = 64) -> str:
    """A client-supplied resource name, cut short for an error message."""
    return name if len(name) <= limit else name[:limit] + "..."


def _moment(claims: Mapping[str, Any], name: str) -> float:
    value = claims.get(name)
    if value is None:
        raise denied(f"the token has no {name} claim.")
    try:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(value)
        return float(value)
    except (ValueError, OverflowError):  # OverflowError: an integer past what a float holds
        raise denied(f"the token's {name} claim is not a number of seconds since the epoch.") from None


def _iso(seconds: float) -> str:
    try:
        return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return f"{seconds:g} seconds since the epoch"


def resource_named_by_host(host: str | None) -> str | None:
    """`tenant2` for `tenant2.localhost[:port]`; None for any host that names no resource."""
    if not host:
        return None
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    name = name.lower().rstrip(".")
    if not name.endswith(HOST_SUFFIX):
        return None
    return name[: -len(HOST_SUFFIX)] or None
