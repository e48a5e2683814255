"""POST /operatorInformation/:search: format, country, type and operator of a phone number."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from numberpool.api import parse, wire
from numberpool.api.call import Api, Call, json_response
from numberpool.core import operator_information
from numberpool.core.errors import bad_request


def _phone_numbers(body: dict[str, Any]) -> list[str]:
    value = parse.required(body, "phoneNumbers")
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise bad_request("'phoneNumbers' must be an array of phone numbers in E.164 format.", target="phoneNumbers")
    return value


def _include_details(body: dict[str, Any]) -> bool:
    options = body.get("options")
    if options is None:
        return False
    if not isinstance(options, dict):
        raise bad_request("'options' must be an object.", target="options")
    return parse.boolean(options, "includeAdditionalOperatorDetails")


async def search_operator_information(call: Call) -> Response:
    body = call.json()
    found = operator_information.search(_phone_numbers(body))
    include = _include_details(body)
    return json_response({"values": [wire.operator_information(info, call.version, include) for info in found]})


def routes(api: Api) -> list[Route]:
    endpoint = api.endpoint(search_operator_information, requires="operator_information")
    return [Route("/operatorInformation/:search", endpoint, methods=["POST"])]
