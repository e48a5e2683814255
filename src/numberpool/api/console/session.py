"""The console's login session: a signed cookie, and the CSRF token it carries.

The cookie holds only a random CSRF token and the time it was signed (itsdangerous'
timestamped signature), never the admin token. The signing key is derived from the admin token
with HMAC-SHA256: every worker process and every restart derives the same key with nothing to
store or share, and changing the admin token ends every session signed under the old one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

COOKIE = "numberpool_console"
COOKIE_PATH = "/_numberpool/admin/"
MAX_AGE_SECONDS = 12 * 3600
CSRF_FIELD = "csrf"


@dataclass(frozen=True)
class Session:
    csrf: str


class Sessions:
    def __init__(self, admin_token: str) -> None:
        key = hmac.new(admin_token.encode("utf-8"), b"numberpool console session v1", hashlib.sha256).digest()
        self._signer = URLSafeTimedSerializer(key, salt="numberpool-console-session")
        self._token = admin_token.encode("utf-8")

    def token_matches(self, presented: str) -> bool:
        """The admin token typed into the login form, compared in constant time."""
        return hmac.compare_digest(presented.strip().encode("utf-8"), self._token)

    def open(self, request: Request) -> Session | None:
        """The request's session, if its cookie is one this service signed and not older than MAX_AGE_SECONDS."""
        cookie = request.cookies.get(COOKIE)
        if not cookie:
            return None
        try:
            data = self._signer.loads(cookie, max_age=MAX_AGE_SECONDS)
        except BadSignature:
            return None
        csrf = data.get("csrf") if isinstance(data, dict) else None
        return Session(csrf) if isinstance(csrf, str) and csrf else None

    def start(self, request: Request, response: Response) -> None:
        response.set_cookie(COOKIE, self._signer.dumps({"csrf": secrets.token_urlsafe(32)}), max_age=MAX_AGE_SECONDS,
                            path=COOKIE_PATH, httponly=True, samesite="strict", secure=request.url.scheme == "https")

    @staticmethod
    def end(request: Request, response: Response) -> None:
        response.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict",
                               secure=request.url.scheme == "https")


def csrf_matches(session: Session, presented: object) -> bool:
    return isinstance(presented, str) and hmac.compare_digest(presented.encode("utf-8"), session.csrf.encode("utf-8"))
