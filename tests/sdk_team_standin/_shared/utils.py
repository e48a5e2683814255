"""Stand-in for the SDK team's `_shared/utils.py`: credentials and pipeline policies for their clients.

Their managed-identity tests build clients from an Entra ID credential (azure-identity's
`DefaultAzureCredential` in live runs). Against numberpool the credential is one whose token
is numberpool's development Entra token (`numberpool.tokens.development_token`), which a
server started with `--entra` accepts. Until numberpool has that module the tests that need a
credential skip, saying why.
"""

from __future__ import annotations

import importlib
import os
import time
from types import ModuleType
from typing import Any

import pytest
from azure.core.credentials import AccessToken
from azure.core.pipeline.policies import HeadersPolicy, HttpLoggingPolicy

TOKEN_MINUTES = 60
WAITING_FOR_ENTRA = (
    "Entra ID (managed identity) test: waiting for numberpool.tokens and `serve --entra` "
    "(see docs/fidelity.md, 'The SDK team's own tests')"
)


def _tokens() -> ModuleType:
    try:
        return importlib.import_module("numberpool.tokens")
    except ModuleNotFoundError as missing:
        if missing.name not in ("numberpool.tokens", "numberpool"):
            raise
        pytest.skip(WAITING_FOR_ENTRA)


def _access_token() -> AccessToken:
    token = _tokens().development_token(minutes=TOKEN_MINUTES)
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
    _tokens()  # skip now, with the reason, rather than on the first request
    return DevelopmentTokenCredential()


def async_create_token_credential() -> AsyncDevelopmentTokenCredential:
    _tokens()
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
