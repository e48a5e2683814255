"""The admin API's routes, ready to mount beside the ACS routes (`api.app.create_app`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.routing import Route

from numberpool.api.admin import (
    activity, audit_events, catalog, imports, inventory, numbers, openapi, operations, resources,
)
from numberpool.api.admin.routing import AdminRequest, AdminRoute, Reply, starlette_routes
from numberpool.core.context import Context
from numberpool.core.resource_registry import ResourceRegistry


@dataclass
class AdminApi:
    """What the admin routes work with: the admin token and the core services behind them."""

    token: str | None
    registry: ResourceRegistry
    ctx: Context
    """The service's context: its store (open once the lifespan starts) for numbers, events and counts."""


def declared_routes(admin: AdminApi) -> list[AdminRoute]:
    """Every admin route; a new domain adds its module's routes here."""
    return [
        *resources.routes(admin.registry),
        *numbers.routes(admin.ctx),
        *audit_events.routes(admin.ctx),
        *inventory.routes(admin.ctx),
        *activity.routes(admin.ctx),
        *imports.routes(admin.ctx),
        *catalog.routes(admin.ctx),
        *operations.routes(admin.ctx),
    ]


def document() -> dict[str, Any]:
    """The admin API's OpenAPI document, as every server serves it (no server needed: tests, tools)."""
    return openapi.document(declared_routes(AdminApi(token=None, registry=None, ctx=None)))  # type: ignore[arg-type]


def admin_routes(admin: AdminApi) -> list[Route]:
    """The Starlette routes; none without an admin token, so every admin path answers 404."""
    if not admin.token:
        return []
    declared = declared_routes(admin)
    doc = openapi.document(declared)

    async def openapi_json(call: AdminRequest) -> Reply:
        return Reply(200, doc)

    document_route = AdminRoute("GET", "/openapi.json", "OpenApi_Get", "This document", openapi_json,
                                {200: ("The OpenAPI 3 document of the admin API", {"type": "object"})})
    return starlette_routes([*declared, document_route], admin.token)
