"""The admin API from tests: a client with the admin token whose every answer is checked
against the OpenAPI document the code generates (numberpool.api.admin.app.document)."""

from __future__ import annotations

import re
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from jsonschema import Draft202012Validator

from numberpool.api.admin.app import document
from tests.support.server import ServerProcess

ADMIN_TOKEN = "test-admin-token-0123456789"
API = "/_numberpool/admin/api/v1"
DOCUMENT = document()


@contextmanager
def running_admin_server(engine: str, data_dir: Path, inventory_size: int) -> Iterator[ServerProcess]:
    """A server with the admin token on `engine`; it must not have logged a traceback when it stops."""
    process = ServerProcess(data_dir, "--inventory-size", str(inventory_size), "--admin-token", ADMIN_TOKEN,
                            engine=engine).start()
    try:
        yield process
    finally:
        process.stop()
    assert not [line for line in process.output if "Traceback" in line], "\n".join(process.output[-100:])


def _inline(node: Any, doc: dict[str, Any]) -> Any:
    """The schema with its local `$ref`s replaced by what they point at."""
    if isinstance(node, dict):
        if set(node) == {"$ref"}:
            target: Any = doc
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            return _inline(target, doc)
        return {key: _inline(value, doc) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(item, doc) for item in node]
    return node


def _template(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$")


_OPERATIONS = [
    (_template(path), method.upper(), operation)
    for path, item in DOCUMENT["paths"].items()
    for method, operation in item.items()
]
checked: list[tuple[str, str, int]] = []


def check_response(response: httpx.Response) -> None:
    """The response is one its operation declares, with a body its schema accepts."""
    request = response.request
    path = request.url.path
    for pattern, method, operation in _OPERATIONS:
        if method == request.method and pattern.match(path):
            break
    else:
        return  # not a documented operation (an unknown path, the document itself)
    response.read()
    declared = operation["responses"].get(str(response.status_code))
    assert declared is not None, (
        f"{request.method} {path}: {response.status_code} is not a documented answer of {operation['operationId']}:"
        f" {response.text[:300]}"
    )
    content = declared.get("content")
    if content is None:
        assert not response.content, f"{operation['operationId']} {response.status_code} has a body: {response.text[:200]}"
        return
    media_type = response.headers["content-type"].split(";")[0]
    assert media_type in content, f"{operation['operationId']}: {media_type} is not declared: {list(content)}"
    if media_type != "application/json":  # a stream of lines: its tests read it
        checked.append((operation["operationId"], request.method, response.status_code))
        return
    schema = _inline(content["application/json"]["schema"], DOCUMENT)
    errors = sorted(Draft202012Validator(schema).iter_errors(response.json()), key=str)
    assert not errors, f"{operation['operationId']} {response.status_code}: {errors[0].message} in {response.text[:300]}"
    checked.append((operation["operationId"], request.method, response.status_code))


def admin_client(server: ServerProcess, token: str | None = ADMIN_TOKEN) -> httpx.Client:
    """HTTP with `Authorization: Bearer <token>` (none if None); every admin answer checked against the document."""
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    verify: Any = ssl.create_default_context(cafile=str(server.ca)) if server.tls else False
    return httpx.Client(base_url=server.endpoint + API, headers=headers, verify=verify, timeout=30,
                        event_hooks={"response": [check_response]})
