"""The console's routes: pages rendered from templates/, assets from static/, charts as SVG.

Every page reads and changes the inventory through the admin API's own routes (admin_calls.py).
Every response carries a strict Content-Security-Policy: scripts, styles and images from this
origin only, no inline script or style, forms post only here, no framing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from importlib import resources as package_files
from typing import Any
from urllib.parse import parse_qs, urlsplit

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from numberpool.api.admin.app import AdminApi, admin_routes
from numberpool.api.admin.catalog import MAX_CATALOG_BYTES
from numberpool.api.admin.catalog import MEDIA_TYPE as CATALOG_MEDIA_TYPE
from numberpool.api.admin.imports import MAX_UPLOAD_BYTES
from numberpool.api.admin.routing import PREFIX as API
from numberpool.api.console import charts
from numberpool.api.console.admin_calls import AdminCalls, Answer, Download, segment
from numberpool.api.console.session import CSRF_FIELD, Session, Sessions, csrf_matches
from numberpool.api.testing import faults as testing_faults
from numberpool.core.inventory_report import STATES
from numberpool.core.model import OperationStatus

BASE = "/_numberpool/admin"
PAGE_SIZE = "25"
RECENT_IMPORTS = "20"
FORM_OVERHEAD_BYTES = 64 * 1024
"""Room for a multipart form's other fields and boundaries around its file."""
MAX_FORM_BYTES = MAX_CATALOG_BYTES + FORM_OVERHEAD_BYTES
"""The largest form the console reads (a catalog file's), but for the numbers upload's."""
UPLOAD_CHUNK_BYTES = 64 * 1024
NUMBERS_FILE_TYPES = (".csv", ".txt")
CATALOG_FILE_TYPES = (".toml",)
OPERATION_STATUSES = [status.value for status in OperationStatus]

PAGE_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self';"
               " form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
# A chart is opened as an image (no script runs in one) and styles itself with inline <style>:
# its own response allows exactly that.
CHART_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'"
_SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
                     "Cache-Control": "no-store", "X-Frame-Options": "DENY"}
_STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".svg": "image/svg+xml"}

Page = Callable[[Request], Awaitable[Response]]


def _load_static() -> dict[str, tuple[bytes, str]]:
    folder = package_files.files(__package__) / "static"
    return {entry.name: (entry.read_bytes(), _STATIC_TYPES[entry.name[entry.name.rfind("."):]])
            for entry in folder.iterdir() if entry.name[entry.name.rfind("."):] in _STATIC_TYPES}


class Console:
    def __init__(self, admin: AdminApi, testing: bool, calls: AdminCalls) -> None:
        assert admin.token
        self.testing = testing
        self.calls = calls
        self.sessions = Sessions(admin.token)
        self.static = _load_static()
        self.templates = Environment(loader=PackageLoader(__package__, "templates"),
                                     autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True)
        self.templates.globals.update(base=BASE, testing=testing, states=STATES, percent=_percent, size=_size)

    # --- responses -----------------------------------------------------------------------

    def render(self, request: Request, name: str, status: int = 200, **values: Any) -> Response:
        session = self.sessions.open(request)
        html = self.templates.get_template(name).render(
            request=request, path=request.url.path, csrf_field=CSRF_FIELD, csrf=session.csrf if session else "",
            signed_in=session is not None, **values)
        return _secured(HTMLResponse(html, status_code=status))

    def problem(self, request: Request, answer: Answer, title: str) -> Response:
        """An admin API error, shown as a page with its status and message."""
        return self.render(request, "problem.html", status=answer.status, title=title, message=answer.message)

    async def api(self, request: Request, method: str, path: str, **kwargs: Any) -> Answer:
        return await self.calls.call(request, method, API + path, **kwargs)

    # --- wrappers ------------------------------------------------------------------------

    def page(self, handler: Callable[[Request, Session], Awaitable[Response]]) -> Page:
        """A page behind the login: without a session, to the login form."""
        async def endpoint(request: Request) -> Response:
            session = self.sessions.open(request)
            if session is None:
                return _secured(RedirectResponse(f"{BASE}/login", status_code=303))
            return await handler(request, session)
        endpoint.__name__ = handler.__name__
        return endpoint

    def change(self, handler: Callable[[Request, dict[str, str]], Awaitable[Response]],
               max_bytes: int = MAX_FORM_BYTES) -> Page:
        """A form that changes something: a session and its CSRF token in the form, or 403 and nothing done.

        The session is checked before the form is read, and a form larger than `max_bytes` is not
        read at all. A file in the form waits in a temporary file (python-multipart spools it to
        disk past 1 MiB), not in memory; the handler finds it in `await request.form()`."""
        async def endpoint(request: Request) -> Response:
            session = self.sessions.open(request)
            if session is None:
                return self.expired(request)
            length = request.headers.get("content-length")
            if length is None and "transfer-encoding" in request.headers:
                return self.render(request, "problem.html", status=411, title="Length required",
                                   message="Send the form with its length (Content-Length), as a browser does.")
            if length is not None and (not length.isdigit() or int(length) > max_bytes):
                return self.render(request, "problem.html", status=413, title="Too large",
                                   message=f"This form takes at most {max_bytes:,} bytes.")
            try:
                form = {key: value for key, value in (await request.form()).items() if isinstance(value, str)}
            except HTTPException as exc:  # not a well-formed form (python-multipart's message)
                return self.render(request, "problem.html", status=400, title="Not a form", message=str(exc.detail))
            if not csrf_matches(session, form.get(CSRF_FIELD)):
                return self.expired(request)
            return await handler(request, form)
        endpoint.__name__ = handler.__name__
        return endpoint

    def expired(self, request: Request) -> Response:
        return self.render(request, "problem.html", status=403, title="Form expired",
                           message="This form is no longer valid (signed out, or sent from elsewhere). "
                                   "Open the page again and resend it.")

    # --- login ---------------------------------------------------------------------------

    async def login_form(self, request: Request) -> Response:
        return self.render(request, "login.html", title="Sign in")

    async def login(self, request: Request) -> Response:
        form = await request.form()
        token = form.get("token")
        if not isinstance(token, str) or not self.sessions.token_matches(token):
            return self.render(request, "login.html", status=401, title="Sign in",
                               error="That admin token is not valid.")
        response = RedirectResponse(f"{BASE}/", status_code=303)
        self.sessions.start(request, response)
        return _secured(response)

    async def logout(self, request: Request, form: dict[str, str]) -> Response:
        response = RedirectResponse(f"{BASE}/login", status_code=303)
        self.sessions.end(request, response)
        return _secured(response)

    # --- overview ------------------------------------------------------------------------

    async def overview(self, request: Request, session: Session) -> Response:
        report = await self.api(request, "GET", "/inventory/report")
        activity = await self.api(request, "GET", "/activity")
        if not report.ok or not activity.ok:
            return self.problem(request, report if not report.ok else activity, "Overview")
        hours = activity.body["hours"]
        return self.render(request, "overview.html", title="Overview", report=report.body, stock=_stock(report.body),
                           stock_height=charts.stock_height(len(_stock(report.body))),
                           searches=sum(h["searches"] for h in hours), purchases=sum(h["purchases"] for h in hours),
                           activity=hours, since=_hour(hours[0]["start"]) if hours else "")

    async def stock_chart(self, request: Request, session: Session) -> Response:
        report = await self.api(request, "GET", "/inventory/report")
        if not report.ok:
            return self.problem(request, report, "Stock")
        rows = [(f"{country} {kind}", counts) for (country, kind), counts in _stock(report.body)]
        return _chart(charts.stock_chart(rows, STATES))

    async def activity_chart(self, request: Request, session: Session) -> Response:
        activity = await self.api(request, "GET", "/activity")
        if not activity.ok:
            return self.problem(request, activity, "Activity")
        hours = [(datetime.fromisoformat(h["start"]), h["searches"], h["purchases"]) for h in activity.body["hours"]]
        return _chart(charts.activity_chart(hours))

    # --- numbers -------------------------------------------------------------------------

    async def numbers(self, request: Request, session: Session) -> Response:
        fields, filters = _search_fields(request, ("prefix", "state", "country", "resource"), "continuation")
        if "country" in filters:
            fields["country"] = filters["country"] = filters["country"].upper()
        answer = await self.api(request, "GET", "/numbers", query={**fields, "pageSize": PAGE_SIZE})
        if not answer.ok:
            return self.render(request, "numbers.html", status=answer.status, title="Numbers", fields=fields,
                               numbers=[], error=answer.message, filters=filters, next_query=None)
        next_query = {**filters, "continuation": answer.body["continuation"]} if "continuation" in answer.body else None
        return self.render(request, "numbers.html", title="Numbers", fields=fields, numbers=answer.body["value"],
                           filters=filters, next_query=next_query, paged=bool(fields["continuation"]))

    async def number(self, request: Request, session: Session) -> Response:
        number = request.path_params["phoneNumber"]
        answer = await self.api(request, "GET", f"/numbers/{segment(number)}")
        if not answer.ok:
            return self.problem(request, answer, number)
        return self.render(request, "number.html", title=answer.body["phoneNumber"], number=answer.body)

    # --- resources -----------------------------------------------------------------------

    async def resources(self, request: Request, session: Session, *, status: int = 200, **values: Any) -> Response:
        answer = await self.api(request, "GET", "/resources")
        if not answer.ok:
            return self.problem(request, answer, "Resources")
        return self.render(request, "resources.html", status=status, title="Resources",
                           resources=answer.body["value"], **values)

    async def resources_page(self, request: Request, session: Session) -> Response:
        return await self.resources(request, session)

    async def create_resource(self, request: Request, form: dict[str, str]) -> Response:
        answer = await self.api(request, "POST", "/resources", body={"id": form.get("id", "").strip()})
        if not answer.ok:
            return await self.resources(request, self.sessions.open(request), status=answer.status,  # type: ignore[arg-type]
                                        error=answer.message, typed=form.get("id", ""))
        return self.render(request, "issued.html", status=201, title=f"Resource {answer.body['id']} created",
                           issued=answer.body, created=True)

    async def rotate_form(self, request: Request, session: Session) -> Response:
        resource = request.path_params["id"]
        answer = await self.api(request, "GET", f"/resources/{segment(resource)}")
        if not answer.ok:
            return self.problem(request, answer, resource)
        return self.render(request, "rotate.html", title=f"Rotate a key of {resource}", resource=answer.body)

    async def rotate_key(self, request: Request, form: dict[str, str]) -> Response:
        resource = request.path_params["id"]
        answer = await self.api(request, "POST", f"/resources/{segment(resource)}/rotateKey",
                                body={"key": form.get("key", "")})
        if not answer.ok:
            return self.problem(request, answer, f"Rotate a key of {resource}")
        return self.render(request, "issued.html", title=f"New {form['key']} key of {resource}",
                           issued=answer.body, created=False, slot=form["key"])

    async def delete_resource(self, request: Request, form: dict[str, str]) -> Response:
        resource = request.path_params["id"]
        answer = await self.api(request, "DELETE", f"/resources/{segment(resource)}")
        session = self.sessions.open(request)
        assert session is not None
        if not answer.ok:
            return await self.resources(request, session, status=answer.status, error=answer.message)
        return await self.resources(request, session, notice=f"Resource {resource} deleted.")

    # --- import --------------------------------------------------------------------------

    async def imports(self, request: Request, *, status: int = 200, **values: Any) -> Response:
        """The Import page: the upload forms and the recent jobs, with what a form just did in `values`."""
        answer = await self.api(request, "GET", "/inventory/imports", query={"limit": RECENT_IMPORTS})
        if not answer.ok:
            return self.problem(request, answer, "Import")
        return self.render(request, "import.html", status=status, title="Import", jobs=answer.body["value"],
                           max_upload=MAX_UPLOAD_BYTES, max_catalog=MAX_CATALOG_BYTES, **values)

    async def import_page(self, request: Request, session: Session) -> Response:
        return await self.imports(request)

    async def start_import(self, request: Request, form: dict[str, str]) -> Response:
        upload, problem = await _chosen_file(request, "numbers", NUMBERS_FILE_TYPES, "a numbers file (CSV)")
        if upload is None:
            return await self.imports(request, status=400, numbers_error=problem)
        answer = await self.api(request, "POST", "/inventory/imports", content=_chunks(upload), content_type="text/csv",
                                query={"dryRun": "true" if form.get("dryRun") else "",
                                       "name": (upload.filename or "")[:200]})
        if not answer.ok:
            return await self.imports(request, status=answer.status, numbers_error=answer.message)
        return _secured(RedirectResponse(f"{BASE}/import/jobs/{segment(answer.body['id'])}", status_code=303))

    async def import_job(self, request: Request, session: Session) -> Response:
        answer = await self.api(request, "GET", f"/inventory/imports/{segment(request.path_params['id'])}")
        if not answer.ok:
            return self.problem(request, answer, "Import")
        return self.render(request, "import_job.html", title=f"Import of {answer.body.get('name') or 'a file'}",
                           job=answer.body)

    async def import_rejects(self, request: Request, session: Session) -> Response:
        return await self.download(request, f"/inventory/imports/{segment(request.path_params['id'])}/rejects",
                                   "Rejected rows")

    async def catalog_file(self, request: Request, session: Session) -> Response:
        return await self.download(request, "/catalog", "Catalog")

    async def import_catalog(self, request: Request, form: dict[str, str]) -> Response:
        upload, problem = await _chosen_file(request, "catalog", CATALOG_FILE_TYPES, "a catalog file (TOML)")
        if upload is None:
            return await self.imports(request, status=400, catalog_error=problem)
        answer = await self.api(request, "PUT", "/catalog", content=_chunks(upload), content_type=CATALOG_MEDIA_TYPE,
                                query={"force": "true" if form.get("force") else ""})
        if not answer.ok:
            return await self.imports(request, status=answer.status, catalog_error=answer.message,
                                      catalog_conflict=answer.status == 409)
        return await self.imports(request, catalog=answer.body, catalog_name=upload.filename)

    async def download(self, request: Request, path: str, title: str) -> Response:
        """An admin route's file, passed on to the browser as it is read (its type and file name kept)."""
        answer = await self.calls.download(request, API + path)
        if not isinstance(answer, Download):
            return self.problem(request, answer, title)
        kept = {name: value for name, value in answer.headers.items()
                if name.lower() in ("content-type", "content-disposition")}
        return _secured(StreamingResponse(answer.chunks, status_code=answer.status, headers=kept))

    # --- operations ----------------------------------------------------------------------

    async def operations_page(self, request: Request, session: Session) -> Response:
        fields, filters = _search_fields(request, ("resource", "status"), "after")
        answer = await self.api(request, "GET", "/operations", query={**fields, "limit": PAGE_SIZE})
        if not answer.ok:
            return self.render(request, "operations.html", status=answer.status, title="Operations", fields=fields,
                               statuses=OPERATION_STATUSES, operations=[], error=answer.message, filters=filters,
                               next_query=None)
        next_query = None
        if "nextLink" in answer.body:
            after = parse_qs(urlsplit(answer.body["nextLink"]).query).get("after", [""])[0]
            next_query = {**filters, "after": after}
        return self.render(request, "operations.html", title="Operations", fields=fields, statuses=OPERATION_STATUSES,
                           operations=answer.body["value"], filters=filters, next_query=next_query,
                           paged=bool(fields["after"]))

    # --- faults (testing mode) -----------------------------------------------------------

    async def faults(self, request: Request, session: Session, *, status: int = 200, **values: Any) -> Response:
        answer = await self.calls.call(request, "GET", testing_faults.PATH)
        if not answer.ok:
            return self.problem(request, answer, "Faults")
        return self.render(request, "faults.html", status=status, title="Faults", rules=answer.body["rules"],
                           operations=FAULT_OPERATIONS, **values)

    async def faults_page(self, request: Request, session: Session) -> Response:
        return await self.faults(request, session)

    async def add_fault(self, request: Request, form: dict[str, str]) -> Response:
        rule, problem = _fault_rule(form)
        session = self.sessions.open(request)
        assert session is not None
        if rule is None:
            return await self.faults(request, session, status=400, error=problem, typed=form)
        answer = await self.calls.call(request, "PATCH", testing_faults.PATH, body={"rules": [rule]})
        if not answer.ok:
            return await self.faults(request, session, status=answer.status, error=answer.message, typed=form)
        return _secured(RedirectResponse(f"{BASE}/faults", status_code=303))

    async def clear_faults(self, request: Request, form: dict[str, str]) -> Response:
        answer = await self.calls.call(request, "DELETE", testing_faults.PATH)
        if not answer.ok:
            return self.problem(request, answer, "Faults")
        return _secured(RedirectResponse(f"{BASE}/faults", status_code=303))

    # --- assets --------------------------------------------------------------------------

    async def asset(self, request: Request) -> Response:
        found = self.static.get(request.path_params["name"])
        if found is None:
            return self.render(request, "problem.html", status=404, title="Not found", message="No such file.")
        content, media_type = found
        response = _secured(Response(content, media_type=media_type))
        response.headers["Cache-Control"] = "no-cache"
        return response

    def routes(self) -> list[BaseRoute]:
        get, post = ["GET"], ["POST"]
        routes = [
            Route(f"{BASE}/", self.page(self.overview), methods=get),
            Route(f"{BASE}/login", self.login_form, methods=get),
            Route(f"{BASE}/login", self.login, methods=post),
            Route(f"{BASE}/logout", self.change(self.logout), methods=post),
            Route(f"{BASE}/charts/stock.svg", self.page(self.stock_chart), methods=get),
            Route(f"{BASE}/charts/activity.svg", self.page(self.activity_chart), methods=get),
            Route(f"{BASE}/numbers", self.page(self.numbers), methods=get),
            Route(f"{BASE}/numbers/{{phoneNumber}}", self.page(self.number), methods=get),
            Route(f"{BASE}/resources", self.page(self.resources_page), methods=get),
            Route(f"{BASE}/resources", self.change(self.create_resource), methods=post),
            Route(f"{BASE}/resources/{{id}}/rotate", self.page(self.rotate_form), methods=get),
            Route(f"{BASE}/resources/{{id}}/rotate", self.change(self.rotate_key), methods=post),
            Route(f"{BASE}/resources/{{id}}/delete", self.change(self.delete_resource), methods=post),
            Route(f"{BASE}/import", self.page(self.import_page), methods=get),
            Route(f"{BASE}/import", self.change(self.start_import, max_bytes=MAX_UPLOAD_BYTES + FORM_OVERHEAD_BYTES),
                  methods=post),
            Route(f"{BASE}/import/jobs/{{id}}", self.page(self.import_job), methods=get),
            Route(f"{BASE}/import/jobs/{{id}}/rejects", self.page(self.import_rejects), methods=get),
            Route(f"{BASE}/import/catalog", self.change(self.import_catalog), methods=post),
            Route(f"{BASE}/import/catalog.toml", self.page(self.catalog_file), methods=get),
            Route(f"{BASE}/operations", self.page(self.operations_page), methods=get),
            Route(f"{BASE}/static/{{name}}", self.asset, methods=get),
        ]
        if self.testing:
            routes += [
                Route(f"{BASE}/faults", self.page(self.faults_page), methods=get),
                Route(f"{BASE}/faults", self.change(self.add_fault), methods=post),
                Route(f"{BASE}/faults/clear", self.change(self.clear_faults), methods=post),
            ]
        return routes


FAULT_OPERATIONS = (
    "SearchAvailablePhoneNumbers", "PurchasePhoneNumbers", "GetSearchResult", "GetOperation", "CancelOperation",
    "ListPhoneNumbers", "GetByNumber", "ReleasePhoneNumber", "UpdateCapabilities", "ListAvailableCountries",
    "ListAreaCodes", "ListAvailableLocalities", "ListOfferings", "BrowseAvailableNumbers",
    "CreateOrUpdateReservation", "GetReservation", "ListReservations", "DeleteReservation", "PurchaseReservation",
    "OperatorInformationSearch",
)


def _fault_rule(form: dict[str, str]) -> tuple[dict[str, Any] | None, str]:
    """The rule the form describes (an HTTP error effect), or None and what is wrong; the faults
    API validates the rest."""
    rule: dict[str, Any] = {}
    for field, name in (("operation", "operation"), ("resource", "resource"), ("countryCode", "countryCode"),
                        ("phoneNumber", "phoneNumber")):
        value = form.get(field, "").strip()
        if value:
            rule[name] = value
    status_text, times_text = form.get("status", "").strip(), form.get("times", "").strip()
    if not status_text.isdigit():
        return None, "Status must be a number from 400 to 599."
    effect: dict[str, Any] = {"status": int(status_text), "code": form.get("code", "").strip() or "FaultInjected"}
    message = form.get("message", "").strip()
    if message:
        effect["message"] = message
    rule["effect"] = {"http": effect}
    if times_text:
        if not times_text.isdigit():
            return None, "Times must be a whole number (or empty for no limit)."
        rule["times"] = int(times_text)
    return rule, ""


def _search_fields(request: Request, names: tuple[str, ...], cursor: str) -> tuple[dict[str, str], dict[str, str]]:
    """A search form's fields from the query (`cursor`: the page's continuation), and the filters
    among them that are set (what the links to the first and next pages keep)."""
    fields = {name: request.query_params.get(name, "").strip() for name in (*names, cursor)}
    return fields, {name: fields[name] for name in names if fields[name]}


async def _chosen_file(request: Request, field: str, types: tuple[str, ...],
                       what: str) -> tuple[UploadFile | None, str]:
    """The form's file in `field`, or None and what is wrong: none chosen, or a name that is not one of `types`."""
    upload = (await request.form()).get(field)
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None, f"Choose {what} to upload."
    if not upload.filename.lower().endswith(types):
        return None, f"{upload.filename} is not {what}: choose a {' or '.join(types)} file."
    return upload, ""


async def _chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    """An uploaded file a chunk at a time, from its temporary file."""
    await upload.seek(0)
    while chunk := await upload.read(UPLOAD_CHUNK_BYTES):
        yield chunk


def _stock(report: dict[str, Any]) -> list[tuple[tuple[str, str], dict[str, int]]]:
    """The report's groups summed over area codes: per country and number type, a count per state."""
    stock: dict[tuple[str, str], dict[str, int]] = {}
    for group in report["groups"]:
        counts = stock.setdefault((group["countryCode"], group["phoneNumberType"]), dict.fromkeys(STATES, 0))
        counts[group["state"]] += group["count"]
    return sorted(stock.items())


def _percent(job: dict[str, Any]) -> str:
    """How far an import has read its file, in whole percent (100% only once all is read)."""
    if not job["bytesTotal"]:
        return "0%" if job["state"] == "running" else "100%"
    return f"{100 * job['bytesRead'] // job['bytesTotal']}%"


def _size(count: int) -> str:
    """A byte count in the largest binary unit that divides it (1 GiB, 1 MiB)."""
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if count >= scale and count % scale == 0:
            return f"{count // scale:,} {unit}"
    return f"{count:,} bytes"


def _hour(text: str) -> str:
    return datetime.fromisoformat(text).strftime("%Y-%m-%d %H:%M UTC")


def _secured(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = PAGE_POLICY
    for name, value in _SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _chart(svg: bytes) -> Response:
    response = Response(svg, media_type="image/svg+xml")
    for name, value in _SECURITY_HEADERS.items():
        response.headers[name] = value
    response.headers["Content-Security-Policy"] = CHART_POLICY
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


def console_routes(admin: AdminApi, testing: bool) -> list[BaseRoute]:
    """The console's routes; none without an admin token, so every console path answers 404."""
    if not admin.token:
        return []
    calls = AdminCalls([*admin_routes(admin), *(testing_faults.routes(admin.ctx, admin.token) if testing else [])],
                       admin.token)
    return Console(admin, testing, calls).routes()
