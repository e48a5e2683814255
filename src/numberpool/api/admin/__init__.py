"""The admin API under `/_numberpool/admin/api/v1/`: JSON, the admin token, an OpenAPI 3 document.

`routing` is the framework (a route declares its schemas; the endpoint checks the token,
reads and validates the body, answers every error in the ACS shape); one module per domain
word holds its routes (`resources`); `openapi` builds the document from the declarations;
`app.admin_routes` gathers them for `api.app.create_app`.
"""
