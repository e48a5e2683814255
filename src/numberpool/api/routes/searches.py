"""Search for available numbers, read a search result, purchase a search."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from numberpool.api import parse, wire
from numberpool.api.call import Api, Call, accepted, json_response
from numberpool.api.routes.catalog import _types
from numberpool.api.versions import AGREE, CONSENT
from numberpool.core import purchase, search
from numberpool.core.model import AssignmentType, NumberType


def _search_request(call: Call) -> search.SearchRequest:
    body = call.json()
    area_code = parse.optional_string(body, "areaCode")
    quantity = body.get("quantity", 1)
    return search.SearchRequest(
        number_type=parse.enum_value(
            NumberType, parse.required(body, "phoneNumberType"), "phoneNumberType", allowed=_types(call)
        ),
        assignment=parse.enum_value(AssignmentType, parse.required(body, "assignmentType"), "assignmentType"),
        capabilities=parse.capabilities(parse.required(body, "capabilities")),
        area_code=area_code or None,
        quantity=1 if quantity is None else parse.integer(quantity, "quantity", minimum=1, maximum=2**31 - 1),
    )


async def start_search(call: Call) -> Response:
    request = _search_request(call)
    found = await search.start_search(call.ctx, call.resource, call.path("country"), request)
    operation_id = f"search_{found.id}"
    return accepted(
        {
            "Access-Control-Expose-Headers": "Location,Operation-Location,operation-id,search-id",
            "Location": call.versioned(search.search_location(found.id)),
            "Operation-Location": call.versioned(f"/phoneNumbers/operations/{operation_id}"),
            "operation-id": operation_id,
            "search-id": found.id,
        }
    )


async def get_search_result(call: Call) -> Response:
    found = await search.get_search(call.ctx, call.resource, call.path("search_id"))
    if found.number_type not in call.version.number_types:  # a mobile search, read at a version without mobile
        raise search.search_not_found(found.id)
    return json_response(wire.search_result(found, call.version))


async def purchase_search(call: Call) -> Response:
    body = call.json()
    search_id = parse.required(body, "searchId")
    if not isinstance(search_id, str):
        raise parse.bad_request("'searchId' must be a string.", target="searchId")
    field = call.version.features.consent_field
    agreed = parse.boolean(body, *((field,) if field else (AGREE, CONSENT)))
    operation = await purchase.purchase_search(
        call.ctx, call.resource, search_id, agreed, call.version.features.resell_refusal
    )
    return accepted(
        {
            "Access-Control-Expose-Headers": "Operation-Location,operation-id,purchase-id",
            "Operation-Location": call.versioned(f"/phoneNumbers/operations/{operation.id}"),
            "operation-id": operation.id,
            "purchase-id": search_id,
        }
    )


def routes(api: Api) -> list[Route]:
    return [
        Route("/availablePhoneNumbers/countries/{country}/:search", api.endpoint(start_search), methods=["POST"]),
        Route("/availablePhoneNumbers/searchResults/{search_id}", api.endpoint(get_search_result), methods=["GET"]),
        Route("/availablePhoneNumbers/:purchase", api.endpoint(purchase_search), methods=["POST"]),
    ]
