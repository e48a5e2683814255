"""Validate response bodies against the official ACS Phone Numbers OpenAPI (Swagger 2.0) files.

`ApiSchema("2025-06-01")` loads `SPEC_ROOT/stable/<version>/phonenumbers.json` and resolves its
`$ref`s, including the external `../../../Common/stable/2021-03-07/common.json#/...` ones, through a
`referencing` registry that reads the referenced files from disk. Swagger 2.0 definitions are JSON
Schema draft 4 plus `x-ms-*` annotations (which validators ignore), so a draft 4 validator checks them.

`check(response, template)` picks the schema of (path template, request method, status), falling back
to the operation's `default` response (the error shape) for 4xx/5xx statuses, and fails the test with
a readable message when the body does not match. A response that declares no schema must have no body.

The reference folder is read-only material shared by the project. When it is missing altogether (a fresh
clone), every test that needs it skips with one reason, and fails under CI=true
(`tests/support/reference.py`); when it is there but a file is missing, the test fails with a message
that says where the file was looked for.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from referencing.jsonschema import DRAFT4

from tests.support.reference import SPEC_ROOT, require_reference

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def spec_file(version: str) -> Path:
    return SPEC_ROOT / "stable" / version / "phonenumbers.json"


def _load_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        require_reference(SPEC_ROOT)  # no reference set at all: skip (fail under CI=true)
        pytest.fail(
            f"Official ACS OpenAPI file not found: {path}\n"
            f"The schema tests need the read-only reference set at {SPEC_ROOT.parent} "
            "(shared/reference/acs-spec beside the repository). Restore it; these tests do not skip.",
            pytrace=False,
        )
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


# ---------------------------------------------------------------- formats

_formats = FormatChecker(formats=())


@_formats.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})", value):
        raise ValueError(f"{value!r} is not an RFC 3339 date-time with a time zone")
    datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


@_formats.checks("int32")
def _int32(value: object) -> bool:
    return not isinstance(value, int) or -(2**31) <= value < 2**31


@_formats.checks("uuid", raises=ValueError)
def _uuid(value: object) -> bool:
    if isinstance(value, str):
        uuid.UUID(value)
    return True


# ---------------------------------------------------------------- schema transforms

def _closed(node: Any) -> Any:
    """Every object schema with `properties` and no `additionalProperties` made closed (strict mode)."""
    if isinstance(node, dict):
        out = {key: _closed(value) for key, value in node.items()}
        if "properties" in out and "additionalProperties" not in out and out.get("type", "object") == "object":
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [_closed(item) for item in node]
    return node


def _make_nullable(doc: dict[str, Any], nullable: Mapping[str, Iterable[str]]) -> None:
    """Let `definitions[name].properties[prop]` also be JSON null (Swagger 2.0 cannot say so).

    A definition the version does not have (reservations before 2024-04-30-preview) is skipped."""
    for name, props in nullable.items():
        if name not in doc["definitions"]:
            continue
        definition = doc["definitions"][name]
        for prop in props:
            schema = definition["properties"][prop]
            definition["properties"][prop] = {"anyOf": [schema, {"type": "null"}]}


class SchemaMismatch(AssertionError):
    pass


class ApiSchema:
    """The response schemas of one api-version of the official spec."""

    def __init__(
        self,
        version: str,
        *,
        strict: bool = True,
        nullable: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        """`strict`: objects may carry no property the spec does not declare (catches fields leaking
        across api-versions). `nullable`: {definition: [property, ...]} that may also be null, for
        documented spec-versus-service differences."""
        self.version = version
        self.path = spec_file(version)
        self.doc = copy.deepcopy(_load_json(self.path))
        if self.doc.get("info", {}).get("version") != version:
            pytest.fail(f"{self.path} declares info.version {self.doc.get('info', {}).get('version')!r}, not {version!r}")
        if nullable:
            _make_nullable(self.doc, nullable)
        self.strict = strict
        self.uri = self.path.resolve().as_uri()
        self.registry: Registry = Registry(retrieve=self._retrieve).with_resource(  # type: ignore[call-arg]
            self.uri, self._resource(self.doc)
        )

    def _resource(self, contents: dict[str, Any]) -> Resource[Any]:
        return DRAFT4.create_resource(_closed(contents) if self.strict else contents)

    def _retrieve(self, uri: str) -> Resource[Any]:
        """External `$ref`s: other files of the reference set, read from disk."""
        if not uri.startswith("file://"):
            raise NoSuchResource(ref=uri)
        return self._resource(_load_json(Path(httpx.URL(uri).path)))

    # ------------------------------------------------------------ lookup

    def templates(self) -> list[str]:
        return list(self.doc["paths"])

    def template_for(self, path: str) -> str:
        """The spec's path template that a concrete request path matches (exact segments first)."""
        segments = path.split("?", 1)[0].rstrip("/").split("/")
        best: tuple[int, str] | None = None
        for template in self.doc["paths"]:
            parts = template.split("/")
            if len(parts) != len(segments):
                continue
            exact = 0
            for part, segment in zip(parts, segments):
                if part.startswith("{") and part.endswith("}"):
                    if not segment:
                        break
                elif part != segment:
                    break
                else:
                    exact += 1
            else:
                if best is None or exact > best[0]:
                    best = (exact, template)
        if best is None:
            raise SchemaMismatch(f"no path template of api-version {self.version} matches {path!r}")
        return best[1]

    def operation(self, template: str, method: str) -> dict[str, Any]:
        item = self.doc["paths"].get(template)
        if item is None:
            raise SchemaMismatch(f"api-version {self.version} has no path {template!r}")
        op = item.get(method.lower())
        if op is None:
            raise SchemaMismatch(f"api-version {self.version} has no {method.upper()} {template}")
        return op

    def response_pointer(self, template: str, method: str, status: int) -> str | None:
        """JSON pointer (within the spec) of the response for `status`, or None if it has no body.

        Falls back to `default` (the ACS error shape) for error statuses."""
        responses = self.operation(template, method)["responses"]
        key = str(status)
        if key not in responses:
            if status >= 400 and "default" in responses:
                key = "default"
            else:
                raise SchemaMismatch(
                    f"{method.upper()} {template} at {self.version} declares no {status} response "
                    f"(declared: {', '.join(responses)})"
                )
        if "schema" not in responses[key]:
            return None
        escaped = template.replace("~", "~0").replace("/", "~1")
        return f"/paths/{escaped}/{method.lower()}/responses/{key}/schema"

    def declared_headers(self, template: str, method: str, status: int) -> list[str]:
        return list(self.operation(template, method)["responses"].get(str(status), {}).get("headers", {}))

    # ------------------------------------------------------------ validation

    @cache  # noqa: B019 - one validator per response, for the lifetime of the ApiSchema
    def _validator(self, pointer: str) -> Draft4Validator:
        return Draft4Validator({"$ref": f"{self.uri}#{pointer}"}, registry=self.registry, format_checker=_formats)

    def validate(self, body: Any, template: str, method: str, status: int) -> None:
        pointer = self.response_pointer(template, method, status)
        if pointer is None:
            raise SchemaMismatch(f"{method.upper()} {template} {status} declares no body, got {body!r}")
        errors = sorted(self._validator(pointer).iter_errors(body), key=lambda e: list(e.absolute_path))
        if errors:
            lines = [
                f"  at /{'/'.join(map(str, e.absolute_path))}: {e.message}"
                for e in errors[:20]
            ]
            raise SchemaMismatch(
                f"{method.upper()} {template} {status} does not match api-version {self.version}:\n"
                + "\n".join(lines)
                + f"\nbody: {json.dumps(body)[:2000]}"
            )

    def check(self, response: httpx.Response, template: str | None = None) -> Any:
        """Validate a real response against its (template, method, status); return the parsed body."""
        request = response.request
        template = template or self.template_for(request.url.path)
        method = request.method
        pointer = self.response_pointer(template, method, response.status_code)
        if pointer is None:
            if response.content:
                raise SchemaMismatch(
                    f"{method} {template} {response.status_code} declares no body, got {response.text[:500]!r}"
                )
            return None
        media_type = response.headers.get("content-type", "").split(";", 1)[0].strip()
        if media_type != "application/json":
            raise SchemaMismatch(f"{method} {template} {response.status_code}: Content-Type is {media_type!r}")
        body = response.json()
        self.validate(body, template, method, response.status_code)
        return body


@cache
def api_schema(version: str) -> ApiSchema:
    """A strict ApiSchema per version, without spec corrections."""
    return ApiSchema(version)
