"""Stand-in for the SDK team's `_shared/utils.py`: credentials and pipeline policies for their clients.

Their managed-identity tests build clients from an Entra ID credential (azure-identity's
`DefaultAzureCredential` in live runs). Against numberpool the credential is one whose token
is numberpool's development Entra token (`numberpool.tokens.development_token`), which a
server started with `--entra` accepts.
"""

from __future__ import annotations

import os
import time
from typing import Any

from azure.core.credentials import AccessToken
from azure.core.pipeline.policies import HeadersPolicy, HttpLoggingPolicy

from numberpool.tokens import development_token

TOKEN_MINUTES = 60


def _access_token() -> AccessToken:
    token = development_token(minutes=TOKEN_MINUTES)
    return AccessToken(token, int(time.time()) + TOKEN_MINUTES * 60)


class DevelopmentTokenCredential:
    """A `TokenCredential` handing out numberpool's development Entra token, whatever the scopes."""

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return _access_token()


class AsyncDevelopmentTokenCredential:
    """The async `TokenCredential` twin."""

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return _access_token()

    async def close(self) -> None:
        pass

    async def __aenter__(self) -> AsyncDevelopmentTokenCredential:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        pass


def create_token_credential() -> DevelopmentTokenCredential:
    return DevelopmentTokenCredential()


def async_create_token_credential() -> AsyncDevelopmentTokenCredential:
    return AsyncDevelopmentTokenCredential()


def get_http_logging_policy(**kwargs: Any) -> HttpLoggingPolicy:
    policy = HttpLoggingPolicy(**kwargs)
    policy.allowed_header_names.update({"MS-CV"})
    return policy


def get_header_policy(**kwargs: Any) -> HeadersPolicy:
    policy = HeadersPolicy(**kwargs)
    user_agent = os.getenv("AZURE_USERAGENT_OVERRIDE")
    if user_agent:
        policy.add_header("x-ms-useragent", user_agent)
    return policy
