"""Microsoft Entra ID bearer tokens (`serve --entra`, `--entra-jwks`, `numberpool token`).

The official SDKs, built with a TokenCredential that returns a development token, run the
lifecycle against real HTTPS servers; every refusal is checked over raw HTTP: 401 (or 403) in the
ACS shape, one clear message each, and the token never in the server's output.
"""

from __future__ import annotations

import base64
import contextlib
import http.server
import json
import os
import re
import shlex
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from azure.communication.phonenumbers import PhoneNumbersClient
from azure.communication.phonenumbers.aio import PhoneNumbersClient as AsyncPhoneNumbersClient
from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError
from azure.core.pipeline.transport import RequestsTransport
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from numberpool.api.admin_auth import DEV_ADMIN_TOKEN
from numberpool.core.resources import DEV_ACCESS_KEY
from numberpool.tokens import development_token
from tests.conftest import ENGINES, OTHER_KEY, OTHER_RESOURCE, server_data_dir
from tests.support.acs import assert_acs_error
from tests.support.sdk import TOLL_FREE_CAPS, release_quietly, release_quietly_async
from tests.support.server import ServerProcess, free_port
from tests.test_js_sdk import js_sdk  # noqa: F401  (the fixture that installs tests/js once per lock)

NEWEST = "2025-06-01"
LIST = f"/phoneNumbers?api-version={NEWEST}"
COUNTRIES = f"/availablePhoneNumbers/countries?api-version={NEWEST}"


# ---------------------------------------------------------------- helpers


class TokenCredential:
    """What azure-identity's credentials are to the SDK: `get_token(*scopes)` gives an AccessToken."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.scopes: list[str] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.scopes.extend(scopes)
        return AccessToken(self.token, int(time.time()) + 3600)


class AsyncTokenCredential(TokenCredential):
    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:  # type: ignore[override]
        return super().get_token(*scopes, **kwargs)

    async def close(self) -> None:
        pass

    async def __aenter__(self) -> AsyncTokenCredential:
        return self

    async def __aexit__(self, *args: object) -> None:
        pass


def start(tmp_path_factory: pytest.TempPathFactory, development_ca: Path, *args: str, tls: bool = True,
          engine: str = "sqlite") -> ServerProcess:
    data_dir = server_data_dir(tmp_path_factory, development_ca, "numberpool-entra")
    return ServerProcess(data_dir, "--inventory-size", "50", *args, tls=tls, engine=engine).start()


@contextlib.contextmanager
def running(tmp_path_factory: pytest.TempPathFactory, development_ca: Path, *args: str,
            tls: bool = True, engine: str = "sqlite") -> Iterator[ServerProcess]:
    """A server for one test or module; engine-independent checks run on SQLite only."""
    process = start(tmp_path_factory, development_ca, *args, tls=tls, engine=engine)
    try:
        yield process
    finally:
        process.stop()


def raw(server: ServerProcess) -> httpx.Client:
    verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=str(server.ca)) if server.tls else False
    return httpx.Client(base_url=server.endpoint, verify=verify, timeout=30)


def bearer(server: ServerProcess, token: str, target: str = LIST, host: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}".strip()}
    if host is not None:
        headers["Host"] = host
    with raw(server) as client:
        return client.get(target, headers=headers)


def hmac_client(server: ServerProcess, key: str = DEV_ACCESS_KEY) -> httpx.Client:
    from tests.support.hmac_auth import HmacAuth

    return httpx.Client(base_url=server.endpoint, auth=HmacAuth(key),
                        verify=ssl.create_default_context(cafile=str(server.ca)), timeout=30)


def claims(**changes: Any) -> dict[str, Any]:
    """A development token's claims with `changes` (None removes a claim)."""
    base = jwt.decode(development_token(), options={"verify_signature": False})
    base.update(changes)
    return {name: value for name, value in base.items() if value is not None}


def unsigned(**changes: Any) -> str:
    return hand_made(claims(**changes))


def hand_made(payload: Any, header: Any = None) -> str:
    """An unsigned JWT of any JSON, even what PyJWT would refuse to encode."""
    def part(value: Any) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part(header if header is not None else {'alg': 'none', 'typ': 'JWT'})}.{part(payload)}."


def refused(response: httpx.Response, status: int, phrase: str) -> str:
    error = assert_acs_error(response, status)
    assert error["code"] == "Denied", error
    assert error["message"].startswith("Denied by the resource provider: "), error
    assert phrase in error["message"], error
    return error["message"]


def sdk(server: ServerProcess, token: str) -> tuple[PhoneNumbersClient, RequestsTransport, TokenCredential]:
    credential = TokenCredential(token)
    transport = RequestsTransport(connection_verify=str(server.ca))
    return PhoneNumbersClient(server.endpoint, credential, transport=transport), transport, credential


def owned_numbers(server: ServerProcess, key: str) -> set[str]:
    with hmac_client(server, key) as client:
        response = client.get(LIST)
        assert response.status_code == 200, response.text
        return {n["phoneNumber"] for n in response.json()["phoneNumbers"]}


# ---------------------------------------------------------------- servers


@pytest.fixture(scope="module", params=ENGINES)
def entra(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
          development_ca: Path) -> Iterator[ServerProcess]:
    """`serve --entra` over HTTPS with the development resource and a second one, on each engine."""
    with running(tmp_path_factory, development_ca, "--entra", "--resource", f"{OTHER_RESOURCE}={OTHER_KEY}",
                 engine=request.param) as process:
        yield process


# ---------------------------------------------------------------- the SDKs with a TokenCredential


def test_python_sdk_runs_the_lifecycle_with_a_token_credential(entra: ServerProcess) -> None:
    client, transport, credential = sdk(entra, development_token())
    bought: list[str] = []
    try:
        search = client.begin_search_available_phone_numbers(
            "US", "tollFree", "application", TOLL_FREE_CAPS, quantity=1, polling_interval=0
        ).result()
        assert len(search.phone_numbers) == 1
        assert client.begin_purchase_phone_numbers(search.search_id, polling_interval=0).result() is None
        bought = list(search.phone_numbers)
        number = bought[0]
        assert client.get_purchased_phone_number(number).phone_number == number
        assert number in {n.phone_number for n in client.list_purchased_phone_numbers()}
        updated = client.begin_update_phone_number_capabilities(
            number, calling="outbound", sms="none", polling_interval=0
        ).result()
        assert (updated.capabilities.calling, updated.capabilities.sms) == ("outbound", "none")
        client.begin_release_phone_number(number, polling_interval=0).result()
        assert number not in {n.phone_number for n in client.list_purchased_phone_numbers()}
        # The SDK asked its credential for the ACS scope, and the token acted as the development resource.
        assert credential.scopes and all(s.startswith("https://communication.azure.com") for s in credential.scopes)
    finally:
        release_quietly(client, bought)
        transport.close()


async def test_async_python_sdk_runs_the_lifecycle_with_a_token_credential(entra: ServerProcess) -> None:
    async with AsyncPhoneNumbersClient(entra.endpoint, AsyncTokenCredential(development_token()),
                                       connection_verify=str(entra.ca)) as client:
        bought: list[str] = []
        try:
            poller = await client.begin_search_available_phone_numbers(
                "US", "tollFree", "application", TOLL_FREE_CAPS, quantity=1, polling_interval=0
            )
            search = await poller.result()
            await (await client.begin_purchase_phone_numbers(search.search_id, polling_interval=0)).result()
            bought = list(search.phone_numbers)
            number = bought[0]
            assert (await client.get_purchased_phone_number(number)).phone_number == number
            assert number in {n.phone_number async for n in client.list_purchased_phone_numbers()}
            poller = await client.begin_update_phone_number_capabilities(number, calling="inbound", sms="none",
                                                                         polling_interval=0)
            assert (await poller.result()).capabilities.calling == "inbound"
            await (await client.begin_release_phone_number(number, polling_interval=0)).result()
            assert number not in {n.phone_number async for n in client.list_purchased_phone_numbers()}
        finally:
            await release_quietly_async(client, bought)


def test_the_sdk_sees_a_refused_token_as_an_authentication_error(entra: ServerProcess) -> None:
    client, transport, _ = sdk(entra, development_token(now=time.time() - 7200))
    try:
        with pytest.raises(ClientAuthenticationError) as caught:
            client.get_purchased_phone_number("+18005550100")
        assert caught.value.status_code == 401
        assert "expired" in str(caught.value)
    finally:
        transport.close()


def test_hmac_access_keys_still_work_on_an_entra_server(entra: ServerProcess) -> None:
    with hmac_client(entra) as client:
        assert client.get(COUNTRIES).status_code == 200


# ---------------------------------------------------------------- which resource a token acts as


def test_a_token_minted_for_a_resource_acts_as_that_resource(entra: ServerProcess) -> None:
    client, transport, _ = sdk(entra, development_token(OTHER_RESOURCE))
    bought: list[str] = []
    try:
        search = client.begin_search_available_phone_numbers(
            "US", "tollFree", "application", TOLL_FREE_CAPS, quantity=1, polling_interval=0
        ).result()
        client.begin_purchase_phone_numbers(search.search_id, polling_interval=0).result()
        bought = list(search.phone_numbers)
        assert set(bought) <= owned_numbers(entra, OTHER_KEY)
        assert not set(bought) & owned_numbers(entra, DEV_ACCESS_KEY)

        # A plain token acts as the resource the host names, in any case, with or without a port.
        token = development_token()
        for host in (f"{OTHER_RESOURCE}.localhost:{entra.port}", f"{OTHER_RESOURCE.upper()}.LOCALHOST"):
            listed = bearer(entra, token, host=host)
            assert listed.status_code == 200, listed.text
            assert set(bought) <= {n["phoneNumber"] for n in listed.json()["phoneNumbers"]}
        # ...and as the development resource when the host names none.
        for host in (f"127.0.0.1:{entra.port}", f"localhost:{entra.port}", "numberpool.example.com"):
            listed = bearer(entra, token, host=host)
            assert listed.status_code == 200, listed.text
            assert not set(bought) & {n["phoneNumber"] for n in listed.json()["phoneNumbers"]}
    finally:
        release_quietly(client, bought)
        transport.close()


def test_no_token_acts_as_a_resource_that_does_not_exist(entra: ServerProcess) -> None:
    refused(bearer(entra, development_token(), host=f"nosuchresource.localhost:{entra.port}"), 401,
            "there is no resource 'nosuchresource' on this server.")
    refused(bearer(entra, development_token("nosuchresource")), 401, "there is no resource 'nosuchresource'")


def test_a_token_minted_for_one_resource_cannot_act_as_another(entra: ServerProcess) -> None:
    refused(bearer(entra, development_token(OTHER_RESOURCE), host=f"devresource.localhost:{entra.port}"), 403,
            f"the token was issued for resource '{OTHER_RESOURCE}', not 'devresource'.")
    assert bearer(entra, development_token(OTHER_RESOURCE), host=f"{OTHER_RESOURCE}.localhost").status_code == 200


# ---------------------------------------------------------------- the claims


@pytest.mark.parametrize("token", [
    pytest.param(lambda: unsigned(aud="https://communication.azure.com/"), id="audience-with-trailing-slash"),
    pytest.param(lambda: unsigned(aud=["https://graph.microsoft.com", "https://communication.azure.com"]),
                 id="audience-list"),
    pytest.param(lambda: unsigned(iss="https://login.microsoftonline.com/common/v2.0"), id="v2-issuer"),
    pytest.param(lambda: unsigned(nbf=int(time.time()) - 60, exp=int(time.time()) + 5), id="about-to-expire"),
    pytest.param(lambda: jwt.encode(claims(), "any-secret-the-basic-mode-does-not-check", algorithm="HS256"),
                 id="signed-by-anyone"),
])
def test_basic_mode_accepts(entra: ServerProcess, token: Callable[[], str]) -> None:
    response = bearer(entra, token())
    assert response.status_code == 200, response.text


REFUSALS = [
    ("expired", lambda: unsigned(nbf=int(time.time()) - 7200, exp=int(time.time()) - 3600),
     "the token expired at "),
    ("not-yet-valid", lambda: unsigned(nbf=int(time.time()) + 3600, exp=int(time.time()) + 7200),
     "the token is not valid before "),
    ("wrong-audience", lambda: unsigned(aud="https://management.azure.com"),
     "the token's audience (aud) must be https://communication.azure.com."),
    ("audience-prefix-only", lambda: unsigned(aud="https://communication.azure.com.evil.example"),
     "the token's audience (aud) must be"),
    ("no-audience", lambda: unsigned(aud=None), "the token's audience (aud) must be"),
    ("wrong-issuer", lambda: unsigned(iss="https://accounts.google.com/"),
     "the token's issuer (iss) must start with https://sts.windows.net/ or https://login.microsoftonline.com/."),
    ("issuer-not-a-string", lambda: unsigned(iss=["https://sts.windows.net/x/"]), "the token's issuer (iss)"),
    ("no-exp", lambda: unsigned(exp=None), "the token has no exp claim."),
    ("no-nbf", lambda: unsigned(nbf=None), "the token has no nbf claim."),
    ("exp-not-a-number", lambda: unsigned(exp="tomorrow"), "the token's exp claim is not a number"),
    ("resource-claim-not-a-string", lambda: unsigned(numberpool_resource=["devresource"]),
     "the token's numberpool_resource claim is not a string."),
    ("not-a-jwt", lambda: "not-a-token", "the bearer token is not a JWT"),
    ("empty", lambda: "", "the bearer token is not a JWT"),
    ("garbage-parts", lambda: "a.b.c", "the bearer token is not a well-formed JWT."),
    ("payload-not-json", lambda: "eyJhbGciOiJub25lIn0.bm90IGpzb24.", "the bearer token is not a well-formed JWT."),
    ("payload-a-list", lambda: hand_made([1]), "the bearer token is not a well-formed JWT."),
    ("header-a-list", lambda: hand_made(claims(), header=[1]), "the bearer token is not a well-formed JWT."),
    ("huge-exp", lambda: unsigned(exp=10**400), "the token's exp claim is not a number"),
    ("exp-boolean", lambda: unsigned(exp=True), "the token's exp claim is not a number"),
]


@pytest.mark.parametrize(("token", "phrase"), [pytest.param(t, p, id=i) for i, t, p in REFUSALS])
def test_basic_mode_refuses(entra: ServerProcess, token: Callable[[], str], phrase: str) -> None:
    value = token()
    message = refused(bearer(entra, value), 401, phrase)
    if value:
        assert value not in message


def test_tokens_are_never_in_the_server_output(entra: ServerProcess) -> None:
    for _, token, _ in REFUSALS:
        value = token()
        bearer(entra, value)
    secret = development_token()
    assert bearer(entra, secret).status_code == 200
    output = "\n".join(entra.output)
    assert "eyJ" not in output and secret not in output, output


def test_validity_follows_the_service_clock(tmp_path_factory: pytest.TempPathFactory, development_ca: Path) -> None:
    with running(tmp_path_factory, development_ca, "--entra", "--test-clock") as server:
        later = development_token(now=time.time() + 3600)
        current = development_token(minutes=30)
        refused(bearer(server, later), 401, "the token is not valid before")
        assert bearer(server, current).status_code == 200
        moved = httpx.post(f"{server.endpoint}/_numberpool/clock", json={"advanceSeconds": 3600 + 60},
                           headers={"Authorization": f"Bearer {DEV_ADMIN_TOKEN}"}, verify=ssl.create_default_context(cafile=str(server.ca)))
        assert moved.status_code == 200, moved.text
        assert bearer(server, later).status_code == 200
        refused(bearer(server, current), 401, "the token expired at")


# ---------------------------------------------------------------- where bearer tokens are refused outright


def test_a_bearer_token_is_refused_without_entra(tmp_path_factory: pytest.TempPathFactory,
                                                 development_ca: Path) -> None:
    with running(tmp_path_factory, development_ca) as server:
        refused(bearer(server, development_token()), 401, "bearer tokens are not accepted; start numberpool with --entra")
        refused(bearer(server, "x"), 401, "bearer tokens are not accepted")


def test_a_bearer_token_is_refused_over_plain_http(tmp_path_factory: pytest.TempPathFactory,
                                                   development_ca: Path) -> None:
    with running(tmp_path_factory, development_ca, "--entra", tls=False) as server:
        refused(bearer(server, development_token()), 401, "bearer tokens are accepted only over HTTPS.")
        assert any("every bearer token is refused" in line for line in server.output), server.output


# ---------------------------------------------------------------- signatures against a key set


class Keys:
    """An RSA and an EC signing key with their JWK Set, and a stranger's RSA key."""

    def __init__(self) -> None:
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP256R1())
        self.stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.jwks = {"keys": [
            {**jwt.algorithms.RSAAlgorithm.to_jwk(self.rsa.public_key(), as_dict=True), "kid": "rsa-1", "use": "sig"},
            {**jwt.algorithms.ECAlgorithm.to_jwk(self.ec.public_key(), as_dict=True), "kid": "ec-1", "use": "sig"},
        ]}

    def token(self, key: Any = None, algorithm: str = "RS256", kid: str | None = "rsa-1", **changes: Any) -> str:
        headers = {"kid": kid} if kid is not None else {}
        return jwt.encode(claims(**changes), key if key is not None else self.rsa, algorithm=algorithm,
                          headers=headers)


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys()


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory, development_ca: Path, keys: Keys) -> Iterator[ServerProcess]:
    jwks = tmp_path_factory.mktemp("jwks") / "jwks.json"
    jwks.write_text(json.dumps(keys.jwks))
    with running(tmp_path_factory, development_ca, "--entra-jwks", str(jwks)) as process:
        yield process


def test_signed_tokens_are_accepted(signed: ServerProcess, keys: Keys) -> None:
    assert bearer(signed, keys.token()).status_code == 200
    assert bearer(signed, keys.token(keys.ec, "ES256", kid="ec-1")).status_code == 200
    client, transport, _ = sdk(signed, keys.token())
    try:
        assert {c.country_code for c in client.list_available_countries()} >= {"US"}
    finally:
        transport.close()


@pytest.mark.parametrize(("make", "phrase"), [
    pytest.param(lambda k: k.token(k.stranger), "the token's signature does not match its key", id="another-key"),
    pytest.param(lambda k: k.token(k.stranger, kid="stranger"), "no key of the configured key set matches",
                 id="unknown-kid"),
    pytest.param(lambda k: k.token(kid=None), "the token has no kid header, and the key set holds more than one key",
                 id="no-kid"),
    pytest.param(lambda k: k.token(k.rsa, kid="ec-1"), "the token is signed with RS256, but its key is for ES256",
                 id="key-of-another-type"),
    pytest.param(lambda k: development_token(), "the token must be signed with RS256 or ES256.", id="unsigned"),
    pytest.param(lambda k: k.token("a-shared-secret-of-32-bytes-or-more!", "HS256"),
                 "the token must be signed with RS256 or ES256.", id="hs256"),
    pytest.param(lambda k: k.token(exp=int(time.time()) - 60), "the token expired at", id="expired-but-signed"),
    pytest.param(lambda k: k.token(aud="https://vault.azure.net"), "the token's audience (aud) must be",
                 id="wrong-audience-but-signed"),
])
def test_signed_mode_refuses(signed: ServerProcess, keys: Keys, make: Callable[[Keys], str], phrase: str) -> None:
    refused(bearer(signed, make(keys)), 401, phrase)


class _JwksHandler(http.server.BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


class JwksEndpoint:
    """A JWK Set served over HTTP on 127.0.0.1, as an identity provider publishes it."""

    def __init__(self, jwks: dict[str, Any]) -> None:
        handler = type("Handler", (_JwksHandler,), {"body": json.dumps(jwks).encode()})
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/discovery/v2.0/keys"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture()
def jwks_endpoint(keys: Keys) -> Iterator[JwksEndpoint]:
    endpoint = JwksEndpoint(keys.jwks)
    yield endpoint
    endpoint.stop()


def test_a_key_set_from_a_url(tmp_path_factory: pytest.TempPathFactory, development_ca: Path, keys: Keys,
                              jwks_endpoint: JwksEndpoint) -> None:
    with running(tmp_path_factory, development_ca, "--entra-jwks", jwks_endpoint.url) as server:
        assert bearer(server, keys.token()).status_code == 200
        assert bearer(server, keys.token(keys.ec, "ES256", kid="ec-1")).status_code == 200
        refused(bearer(server, keys.token(keys.stranger)), 401, "the token's signature does not match its key")
        refused(bearer(server, keys.token(keys.stranger, kid="stranger")), 401, "no key of the configured key set")


def test_a_key_set_url_that_goes_away(tmp_path_factory: pytest.TempPathFactory, development_ca: Path,
                                      keys: Keys) -> None:
    endpoint = JwksEndpoint(keys.jwks)
    try:
        server = start(tmp_path_factory, development_ca, "--entra-jwks", endpoint.url)
    finally:
        endpoint.stop()  # the server checked the URL at start, and fetches it again for its first token
    try:
        refused(bearer(server, keys.token()), 401,
                "the configured key set could not be fetched to check the token's signature.")
    finally:
        server.stop()


# ---------------------------------------------------------------- the command line


def numberpool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "numberpool", *args], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(("content", "phrase"), [
    pytest.param(None, "No such file or directory", id="missing"),
    pytest.param("{not json", "not JSON", id="not-json"),
    pytest.param('{"kty": "RSA"}', "not a JWK Set", id="a-key-not-a-set"),
    pytest.param('{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}', "holds no RS256 or ES256 signing key",
                 id="no-usable-key"),
    pytest.param('{"keys": []}', "The JWK Set did not contain any keys", id="empty"),
])
def test_a_bad_key_set_file_is_a_one_line_error(tmp_path: Path, content: str | None, phrase: str) -> None:
    path = tmp_path / "jwks.json"
    if content is not None:
        path.write_text(content)
    result = numberpool("serve", "--data-dir", str(tmp_path), "--entra-jwks", str(path))
    assert result.returncode == 2, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"numberpool: error: --entra-jwks {path}: "), result.stderr
    assert phrase in last and "Traceback" not in result.stderr, result.stderr


def test_an_unreachable_key_set_url_is_a_one_line_error(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/keys"
    result = numberpool("serve", "--data-dir", str(tmp_path), "--entra-jwks", url)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(f"numberpool: error: --entra-jwks {url}: ")
    assert "Traceback" not in result.stderr


def test_the_token_command_prints_a_token_the_service_accepts(entra: ServerProcess) -> None:
    printed = numberpool("token", "--minutes", "5")
    assert printed.returncode == 0, printed.stderr
    token = printed.stdout.strip()
    assert bearer(entra, token).status_code == 200
    payload = jwt.decode(token, options={"verify_signature": False})
    assert payload["exp"] - payload["nbf"] == 300
    for_other = numberpool("token", "--resource", OTHER_RESOURCE).stdout.strip()
    assert jwt.decode(for_other, options={"verify_signature": False})["numberpool_resource"] == OTHER_RESOURCE


@pytest.mark.parametrize(("args", "phrase"), [
    (["--minutes", "0"], "--minutes must be more than 0"),
    (["--minutes", "-5"], "--minutes must be more than 0"),
    (["--minutes", "nan"], "--minutes must be more than 0"),
    (["--minutes", "lots"], "argument --minutes: invalid float value"),
    (["--resource", "two words"], "--resource 'two words': a resource id is"),
])
def test_the_token_command_refuses_bad_input(args: list[str], phrase: str) -> None:
    result = numberpool("token", *args)
    assert result.returncode == 2 and result.stdout == ""
    assert phrase in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_the_entra_settings_reach_worker_processes() -> None:
    from numberpool.server.config import ServerConfig

    config = ServerConfig(entra=True, entra_jwks="/etc/numberpool/jwks.json")
    again = ServerConfig.from_json(config.to_json())
    assert (again.entra, again.entra_jwks) == (True, "/etc/numberpool/jwks.json")


def test_development_token_refuses_bad_arguments() -> None:
    with pytest.raises(ValueError):
        development_token(minutes=float("inf"))
    with pytest.raises(ValueError):
        development_token("a.b")


# ---------------------------------------------------------------- the JavaScript SDK


def test_js_sdk_with_a_token_credential(js_sdk: Path, entra: ServerProcess) -> None:
    env = {**os.environ, "NUMBERPOOL_ENDPOINT": entra.endpoint + "/", "NUMBERPOOL_TOKEN": development_token(),
           "NUMBERPOOL_EXPIRED_TOKEN": development_token(now=time.time() - 7200),
           "NODE_EXTRA_CA_CERTS": str(entra.ca)}
    run = subprocess.run(["node", "entra.mjs"], cwd=js_sdk, env=env, capture_output=True, text=True, timeout=300)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    steps = [line[3:].split(":")[0] for line in run.stdout.splitlines() if line.startswith("ok ")]
    assert steps == ["search", "purchase", "release", "expired token refused"], output
    assert "js-sdk-entra: 4 steps passed" in run.stdout, output



# ---------------------------------------------------------------- anything a client sends


def test_any_bearer_value_is_an_acs_error_or_a_resource() -> None:
    """Fuzzed tokens through the same Authenticator the server uses: never anything but 401/403 or a resource."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from numberpool.api.auth import Authenticator
    from numberpool.api.entra import EntraVerifier
    from numberpool.core.errors import AcsError
    from numberpool.core.resources import DEV_RESOURCE

    authenticator = Authenticator([DEV_RESOURCE.to_resource()], entra=EntraVerifier(time.time, https=True))
    json_values = st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
        max_leaves=8,
    )
    claim_sets = st.fixed_dictionaries({}, optional={
        name: json_values | st.just(value) for name, value in claims().items()
    })
    tokens = (st.text(max_size=200) | claim_sets.map(hand_made)
              | st.tuples(json_values, json_values).map(lambda parts: hand_made(parts[1], header=parts[0])))

    @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(token=tokens, host=st.text(max_size=30))
    def check(token: str, host: str) -> None:
        headers = {"authorization": f"Bearer {token}", "host": host}
        try:
            resource = authenticator.authenticate("GET", LIST, headers, b"", time.time())
        except AcsError as error:
            assert error.status in (401, 403) and error.code == "Denied"
            assert len(token.strip()) < 16 or token.strip() not in error.message  # short ones may occur by chance
        else:
            assert resource.id == "devresource"

    check()


# ---------------------------------------------------------------- docs/testing.md runs as written

DOCS = Path(__file__).resolve().parents[1] / "docs" / "testing.md"


def docs_block(language: str) -> str:
    """The `language` code block of the section '## Microsoft Entra ID tokens'."""
    section = DOCS.read_text(encoding="utf-8").split("## Microsoft Entra ID tokens", 1)[1].split("\n## ", 1)[0]
    match = re.search(rf"```{language}\n(.*?)```", section, re.S)
    assert match, f"no {language} block in the Entra section of {DOCS}"
    return match.group(1)


def docs_env(server: ServerProcess) -> dict[str, str]:
    """What a reader's shell has: numberpool on PATH, the development CA trusted."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}"
    return {**os.environ, "PATH": path, "NUMBERPOOL_ENDPOINT": server.endpoint + "/",
            "REQUESTS_CA_BUNDLE": str(server.ca), "NODE_EXTRA_CA_CERTS": str(server.ca)}


def test_docs_shell_example(tmp_path_factory: pytest.TempPathFactory, development_ca: Path) -> None:
    lines = docs_block("bash").replace("\\\n", " ").splitlines()
    serve = [line for line in lines if line.startswith("numberpool serve ")]
    assert len(serve) == 1 and serve[0].endswith(" &"), lines
    flags = shlex.split(serve[0][len("numberpool serve "):-2])
    with running(tmp_path_factory, development_ca, *flags) as server:
        script = "\n".join(line for line in lines if line not in serve)
        script = script.replace(":8443/", f":{server.port}/").replace(".numberpool/", f"{server.data_dir}/")
        run = subprocess.run(["bash", "-euo", "pipefail", "-c", script], env=docs_env(server),
                             capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.count('{"phoneNumbers":[') == 2, run.stdout


def test_docs_python_example(entra: ServerProcess) -> None:
    run = subprocess.run([sys.executable, "-c", docs_block("python")], env=docs_env(entra),
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    bought = re.fullmatch(r"bought (\+1\d{10})\nreleased (\+1\d{10})\n", run.stdout)
    assert bought and bought.group(1) == bought.group(2), run.stdout


def test_docs_node_example(js_sdk: Path, entra: ServerProcess) -> None:
    script = js_sdk / f"docs-entra-{os.getpid()}.mjs"  # beside node_modules, so the SDK resolves
    script.write_text(docs_block("js"))
    try:
        run = subprocess.run(["node", script.name], cwd=js_sdk, env=docs_env(entra), capture_output=True,
                             text=True, timeout=120)
    finally:
        script.unlink()
    assert run.returncode == 0, run.stdout + run.stderr
    assert "US" in run.stdout.split(), run.stdout
