"""Admin routes for resources (tenants) and their keys; the rules are core/resource_registry.py."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from numberpool.api.admin.routing import PREFIX, AdminRequest, AdminRoute, QueryParam, Reply
from numberpool.api.admin.schemas import ACCESS_KEY, RESOURCE_ID_SCHEMA, TIMESTAMP
from numberpool.core.resource_registry import KEY_SLOTS, IssuedKeys, ResourceInfo, ResourceRegistry
from numberpool.core.timeutil import from_epoch

RESOURCE: dict[str, Any] = {
    "type": "object",
    "required": ["id", "declared", "keys", "createdAt", "updatedAt", "ownedNumbers"],
    "additionalProperties": False,
    "properties": {
        "id": RESOURCE_ID_SCHEMA,
        "declared": {"type": "boolean", "description": "declared by --resource or --config: its keys come from there at each start"},
        "keys": {"type": "array", "items": {"enum": list(KEY_SLOTS)}, "description": "the key slots that hold a key"},
        "createdAt": TIMESTAMP,
        "updatedAt": TIMESTAMP,
        "ownedNumbers": {"type": "integer", "minimum": 0},
        "lastActivity": {**TIMESTAMP, "description": "when it last started a long-running operation; absent if never"},
    },
}
RESOURCE_LIST: dict[str, Any] = {
    "type": "object",
    "required": ["value"],
    "additionalProperties": False,
    "properties": {"value": {"type": "array", "items": RESOURCE}},
}
CREATE_REQUEST: dict[str, Any] = {
    "type": "object",
    "required": ["id"],
    "additionalProperties": False,
    "properties": {"id": RESOURCE_ID_SCHEMA},
}
ISSUED_KEYS: dict[str, Any] = {
    "type": "object",
    "required": ["id", "connectionString"],
    "additionalProperties": False,
    "properties": {
        "id": RESOURCE_ID_SCHEMA,
        "primaryKey": ACCESS_KEY,
        "secondaryKey": ACCESS_KEY,
        "connectionString": {"type": "string", "description": "endpoint and the key just issued (the primary on create)"},
    },
}
ROTATE_REQUEST: dict[str, Any] = {
    "type": "object",
    "required": ["key"],
    "additionalProperties": False,
    "properties": {"key": {"enum": list(KEY_SLOTS)}},
}
DELETED: dict[str, Any] = {
    "type": "object",
    "required": ["id", "releasedNumbers"],
    "additionalProperties": False,
    "properties": {"id": RESOURCE_ID_SCHEMA, "releasedNumbers": {"type": "integer", "minimum": 0}},
}
_ID_PARAM = {"id": RESOURCE_ID_SCHEMA}


def resource_json(info: ResourceInfo) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": info.id,
        "declared": info.declared,
        "keys": ["primary", "secondary"] if info.has_secondary_key else ["primary"],
        "createdAt": from_epoch(info.created_at).isoformat(),
        "updatedAt": from_epoch(info.updated_at).isoformat(),
        "ownedNumbers": info.owned_numbers or 0,
    }
    if info.last_activity is not None:
        body["lastActivity"] = from_epoch(info.last_activity).isoformat()
    return body


def connection_string(endpoint: str, key: str) -> str:
    return f"endpoint={endpoint};accesskey={key}"


def issued_json(issued: IssuedKeys, endpoint: str) -> dict[str, Any]:
    body: dict[str, Any] = {"id": issued.id}
    if issued.primary_key is not None:
        body["primaryKey"] = issued.primary_key
    if issued.secondary_key is not None:
        body["secondaryKey"] = issued.secondary_key
    key = issued.primary_key or issued.secondary_key
    assert key is not None
    body["connectionString"] = connection_string(endpoint, key)
    return body


def routes(registry: ResourceRegistry) -> list[AdminRoute]:
    async def list_resources(call: AdminRequest) -> Reply:
        return Reply(200, {"value": [resource_json(info) for info in await registry.list()]})

    async def create_resource(call: AdminRequest) -> Reply:
        issued = await registry.create(call.body["id"])
        location = f"{PREFIX}/resources/{quote(issued.id)}"
        return Reply(201, issued_json(issued, call.endpoint), {"Location": location})

    async def show_resource(call: AdminRequest) -> Reply:
        return Reply(200, resource_json(await registry.show(call.path("id"))))

    async def rotate_key(call: AdminRequest) -> Reply:
        return Reply(200, issued_json(await registry.rotate_key(call.path("id"), call.body["key"]), call.endpoint))

    async def delete_resource(call: AdminRequest) -> Reply:
        released = await registry.delete(call.path("id"), release_numbers=call.query("releaseNumbers") == "true")
        return Reply(200, {"id": call.path("id"), "releasedNumbers": released})

    return [
        AdminRoute("GET", "/resources", "Resources_List", "List the resources with how many numbers each owns",
                   list_resources, {200: ("The resources, by id", RESOURCE_LIST)}),
        AdminRoute("POST", "/resources", "Resources_Create",
                   "Create a resource; its two new keys are shown in this answer only",
                   create_resource, {201: ("Created, with its keys and connection string", ISSUED_KEYS)},
                   request=CREATE_REQUEST, errors=(409,)),
        AdminRoute("GET", "/resources/{id}", "Resources_Get",
                   "A resource with its owned-number count and last activity",
                   show_resource, {200: ("The resource", RESOURCE)}, path_params=_ID_PARAM, errors=(404,)),
        AdminRoute("POST", "/resources/{id}/rotateKey", "Resources_RotateKey",
                   "Replace one key (like ACS regenerateKey): the other keeps working; the new key is shown once",
                   rotate_key, {200: ("The new key and a connection string with it", ISSUED_KEYS)},
                   request=ROTATE_REQUEST, path_params=_ID_PARAM, errors=(404,)),
        AdminRoute("DELETE", "/resources/{id}", "Resources_Delete",
                   "Delete a resource; refused (409) while it owns numbers unless releaseNumbers=true",
                   delete_resource, {200: ("Deleted", DELETED)}, path_params=_ID_PARAM,
                   query=(QueryParam("releaseNumbers", {"type": "boolean"},
                                     "release the numbers it owns back to the inventory first"),),
                   errors=(404, 409)),
    ]
