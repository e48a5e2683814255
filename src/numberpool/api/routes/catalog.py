"""GET countries, localities, area codes and offerings."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from numberpool.api import parse, wire
from numberpool.api.call import Api, Call
from numberpool.core import catalog
from numberpool.core.errors import bad_request
from numberpool.core.model import AssignmentType, NumberType


def _number_type(call: Call, *, required: bool = False) -> NumberType | None:
    raw = call.query.get("phoneNumberType")
    if raw is None:
        if required:
            raise bad_request("The 'phoneNumberType' query parameter is required.", target="phoneNumberType")
        return None
    return parse.enum_value(NumberType, raw, "phoneNumberType", allowed=_types(call))


def _types(call: Call) -> tuple[NumberType, ...]:
    return call.version.number_types


def _assignment(call: Call) -> AssignmentType | None:
    raw = call.query.get("assignmentType")
    return None if raw is None else parse.enum_value(AssignmentType, raw, "assignmentType")


async def list_countries(call: Call) -> Response:
    countries = await catalog.countries(call.ctx)
    return call.paged([wire.country(c) for c in countries], "countries")


async def list_localities(call: Call) -> Response:
    # The phoneNumberType filter is 2025-06-01's; earlier versions get it too, within their own enum.
    towns = await catalog.localities(
        call.ctx, call.path("country"), call.query.get("administrativeDivision"), _number_type(call)
    )
    return call.paged([wire.locality(t) for t in towns], "phoneNumberLocalities")


async def list_area_codes(call: Call) -> Response:
    codes = await catalog.area_codes(
        call.ctx,
        call.path("country"),
        _number_type(call, required=True),
        _assignment(call),
        call.query.get("locality"),
        call.query.get("administrativeDivision"),
    )
    return call.paged([{"areaCode": code} for code in codes], "areaCodes")


async def list_offerings(call: Call) -> Response:
    offerings = await catalog.offerings(call.ctx, call.path("country"), _number_type(call), _assignment(call))
    visible = [o for o in offerings if o.number_type in _types(call)]
    return call.paged([wire.offering(o) for o in visible], "phoneNumberOfferings")


def routes(api: Api) -> list[Route]:
    base = "/availablePhoneNumbers/countries"
    return [
        Route(base, api.endpoint(list_countries, requires="catalog"), methods=["GET"]),
        Route(base + "/{country}/localities", api.endpoint(list_localities, requires="catalog"), methods=["GET"]),
        Route(base + "/{country}/areaCodes", api.endpoint(list_area_codes, requires="catalog"), methods=["GET"]),
        Route(base + "/{country}/offerings", api.endpoint(list_offerings, requires="catalog"), methods=["GET"]),
    ]
