"""Poll and cancel long-running operations."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from numberpool.api import wire
from numberpool.api.call import Api, Call, json_response
from numberpool.core import operations
from numberpool.core.model import OperationType


async def get_operation(call: Call) -> Response:
    operation = await operations.get_operation(call.ctx, call.resource, call.path("operation_id"))
    headers = {}
    if operation.resource_location:
        headers["Location"] = call.versioned(operation.resource_location)
        headers["Access-Control-Expose-Headers"] = "Location"
    if operation.operation_type is OperationType.RESERVATION_PURCHASE:  # as py_test_purchase_reservation.json
        headers["Access-Control-Expose-Headers"] = "Location,Operation-Location,operation-id,reservationPurchase-id"
        headers["operation-id"] = operation.id
        headers["Operation-Location"] = call.versioned(f"/phoneNumbers/operations/{operation.id}")
        headers["reservation-purchase-id"] = operation.id.removeprefix("reservationPurchase_")
    return json_response(wire.operation(operation, call.ctx.clock.now(), call.version), headers=headers)


async def cancel_operation(call: Call) -> Response:
    await operations.cancel_operation(call.ctx, call.resource, call.path("operation_id"))
    return Response(status_code=204)


def routes(api: Api) -> list[Route]:
    return [
        Route("/phoneNumbers/operations/{operation_id}", api.endpoint(get_operation), methods=["GET"]),
        Route("/phoneNumbers/operations/{operation_id}", api.endpoint(cancel_operation), methods=["DELETE"]),
    ]
