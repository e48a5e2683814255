"""The admin API's OpenAPI 3.0 document, built from the route declarations."""

from __future__ import annotations

from typing import Any

from numberpool import __version__
from numberpool.api.admin.routing import PREFIX, AdminRoute
from numberpool.api.admin.schemas import ERROR

_ERROR_DESCRIPTIONS = {
    400: "The input is not valid",
    401: "The admin token is missing or wrong",
    404: "Not found (also every admin path when no admin token is configured)",
    409: "Conflicts with the current state",
    413: "The body is too large",
    415: "The body is not of the media type this operation takes",
}


def document(routes: list[AdminRoute]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(PREFIX + route.path, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "numberpool admin API",
            "version": __version__,
            "description": "Operator API of numberpool, beside the ACS Phone Numbers API on the same port."
            " Every request carries 'Authorization: Bearer <admin token>'.",
        },
        "paths": paths,
        "components": {
            "schemas": {"Error": ERROR},
            "securitySchemes": {"adminToken": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"adminToken": []}],
    }


def _operation(route: AdminRoute) -> dict[str, Any]:
    operation: dict[str, Any] = {"operationId": route.operation_id, "summary": route.summary}
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": schema} for name, schema in route.path_params.items()
    ] + [
        {"name": q.name, "in": "query", "required": False, "schema": q.schema, "description": q.description}
        for q in route.query
    ]
    if parameters:
        operation["parameters"] = parameters
    if route.request is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": route.request}}}
    if route.body_media is not None:
        operation["requestBody"] = {"required": True, "content": {route.body_media: {"schema": {"type": "string"}}}}
    responses: dict[str, Any] = {}
    for status, (description, schema) in route.responses.items():
        responses[str(status)] = {"description": description}
        if schema is not None:
            responses[str(status)]["content"] = {media: {"schema": schema} for media in route.produces}
    statuses = {401, 404, *route.errors}  # 404: every admin path, when no admin token is configured
    has_body = route.request is not None or route.body_media is not None
    if has_body or parameters:
        statuses.add(400)
    if has_body:
        statuses |= {413, 415}
    for status in sorted(statuses):
        responses[str(status)] = {
            "description": _ERROR_DESCRIPTIONS[status],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    operation["responses"] = responses
    return operation
