"""Fault rules over HTTP (testing mode): `/_numberpool/faults`.

GET lists the rules, each with its `id` and `hits` (and `remaining` for a rule with `times`);
POST `{"rules": [...]}` replaces them, PATCH appends, DELETE clears (all, or `?resource=ID`).
"""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from numberpool.api.call import json_response
from numberpool.api.testing.control import Control, ControlEndpoint
from numberpool.core import faults
from numberpool.core.context import Context, new_id

PATH = "/_numberpool/faults"


def _book(control: Control) -> faults.FaultBook:
    book = control.ctx.faults
    assert book is not None and book.store is not None, "the fault routes are served in testing mode only"
    return book


async def _listing(book: faults.FaultBook, status: int = 200) -> Response:
    assert book.store is not None
    _, listed = await book.store.fault_rules()
    return json_response({"rules": [entry.to_json() for entry in listed]}, status=status)


async def list_rules(control: Control) -> Response:
    return await _listing(_book(control))


async def replace_rules(control: Control) -> Response:
    book = _book(control)
    assert book.store is not None
    await book.store.replace_fault_rules(faults.parse_rules(control.json(), new_id))
    await book.refresh(force=True)
    return await _listing(book)


async def append_rules(control: Control) -> Response:
    book = _book(control)
    assert book.store is not None
    if not await book.store.append_fault_rules(faults.parse_rules(control.json(), new_id), faults.MAX_RULES):
        raise faults.too_many_rules()
    await book.refresh(force=True)
    return await _listing(book)


async def clear_rules(control: Control) -> Response:
    book = _book(control)
    assert book.store is not None
    resource = control.request.query_params.get("resource") or None
    await book.store.clear_fault_rules(resource)
    await book.refresh(force=True)
    return Response(status_code=204)


def routes(ctx: Context, admin_token: str | None) -> list[Route]:
    return [
        Route(PATH, ControlEndpoint(ctx, admin_token, list_rules), methods=["GET"]),
        Route(PATH, ControlEndpoint(ctx, admin_token, replace_rules), methods=["POST"]),
        Route(PATH, ControlEndpoint(ctx, admin_token, append_rules), methods=["PATCH"]),
        Route(PATH, ControlEndpoint(ctx, admin_token, clear_rules), methods=["DELETE"]),
    ]
