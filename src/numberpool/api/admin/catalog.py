"""Admin routes for the catalog file, behind `numberpool catalog export|import`: the rules are
core/catalog_admin.py, the format core/catalog_file.py."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from numberpool.api.admin.routing import AdminRequest, AdminRoute, QueryParam, Reply
from numberpool.core.catalog_admin import CatalogConflict, CatalogImport, export_catalog, import_catalog
from numberpool.core.catalog_file import CatalogFileError, dump_catalog, parse_catalog
from numberpool.core.context import Context
from numberpool.core.errors import AcsError, invalid_input

MEDIA_TYPE = "application/toml"
MAX_CATALOG_BYTES = 1024 * 1024
SOURCE = "catalog"
"""How the import's messages and its audit event name the uploaded file."""

_NAMES: dict[str, Any] = {"type": "array", "items": {"type": "string"}}
IMPORT_RESULT: dict[str, Any] = {
    "type": "object",
    "required": ["changed", "summary", "addedCountries", "updatedCountries", "removedCountries", "keptCountries",
                 "addedOfferings", "updatedOfferings", "removedOfferings", "stranded"],
    "additionalProperties": False,
    "properties": {
        "changed": {"type": "boolean"},
        "summary": {"type": "string", "description": "the line `numberpool catalog import` prints"},
        "addedCountries": _NAMES,
        "updatedCountries": _NAMES,
        "removedCountries": _NAMES,
        "keptCountries": {**_NAMES, "description": "not in the file but kept: numbers of theirs are stored"},
        "addedOfferings": _NAMES,
        "updatedOfferings": _NAMES,
        "removedOfferings": _NAMES,
        "stranded": {**_NAMES, "description": "force only: available numbers left without an offering"},
    },
}


def import_json(result: CatalogImport) -> dict[str, Any]:
    return {
        "changed": result.changed, "summary": result.summary(),
        "addedCountries": result.added_countries, "updatedCountries": result.updated_countries,
        "removedCountries": result.removed_countries, "keptCountries": result.kept_countries,
        "addedOfferings": result.added_offerings, "updatedOfferings": result.updated_offerings,
        "removedOfferings": result.removed_offerings, "stranded": result.stranded,
    }


def routes(ctx: Context) -> list[AdminRoute]:
    async def export(call: AdminRequest) -> Reply:
        text = dump_catalog(await export_catalog(ctx.store))
        return Reply(200, Response(text.encode("utf-8"), media_type=MEDIA_TYPE + "; charset=utf-8"))

    async def replace(call: AdminRequest) -> Reply:
        raw = b"".join([chunk async for chunk in call.chunks(MAX_CATALOG_BYTES)])
        try:
            catalog = parse_catalog(raw.decode("utf-8"), SOURCE)
        except UnicodeDecodeError as exc:
            raise invalid_input(f"{SOURCE}: not UTF-8 text (byte {exc.start})") from None
        except CatalogFileError as exc:
            raise invalid_input(str(exc)) from None
        try:
            result = await import_catalog(ctx.store, catalog, force=call.query("force") == "true", source=SOURCE)
        except CatalogConflict as exc:
            raise AcsError(
                "CatalogConflict",
                f"Refused: the catalog removes the last offering for {', '.join(exc.stranded)}, which could no longer"
                " be sold; add the offering back, withdraw the numbers, or repeat with force=true.",
                status=409,
            ) from None
        return Reply(200, import_json(result))

    return [
        AdminRoute("GET", "/catalog", "Catalog_Export",
                   "The stored catalog as a catalog file (TOML), as `numberpool catalog export` prints it",
                   export, {200: ("The catalog file", {"type": "string"})}, produces=(MEDIA_TYPE,)),
        AdminRoute("PUT", "/catalog", "Catalog_Import",
                   "Make the stored catalog what this catalog file declares, as `numberpool catalog import`"
                   f" (at most {MAX_CATALOG_BYTES} bytes); refused (409) when available numbers would lose their"
                   " last offering, unless force=true",
                   replace, {200: ("What changed", IMPORT_RESULT)},
                   query=(QueryParam("force", {"type": "boolean"},
                                     "remove offerings even when available numbers would have none left"),),
                   errors=(409,), body_media=MEDIA_TYPE),
    ]
