"""Reset (testing mode): `POST /_numberpool/reset`, optionally `{"resource": "ID"}`.

Answers 204 once every hold, reservation, purchase, operation, search and fault rule (of every
resource, or of the one named) is gone and the inventory is as seeded or imported.
"""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from numberpool.api.testing.control import Control, ControlEndpoint
from numberpool.core import reset
from numberpool.core.context import Context
from numberpool.core.errors import bad_request

PATH = "/_numberpool/reset"


async def reset_state(control: Control) -> Response:
    body = control.json(optional=True)
    unknown = sorted(set(body) - {"resource"})
    if unknown:
        raise bad_request(f"'{unknown[0]}' is not a field of a reset; only 'resource' is.", target=unknown[0])
    resource = body.get("resource")
    if resource is not None and (not isinstance(resource, str) or not resource):
        raise bad_request("'resource' must be a resource id.", target="resource")
    await reset.reset(control.ctx, resource)
    return Response(status_code=204)


def routes(ctx: Context, admin_token: str | None) -> list[Route]:
    return [Route(PATH, ControlEndpoint(ctx, admin_token, reset_state), methods=["POST"])]
