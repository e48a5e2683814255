"""`numberpool catalog import|export`: the countries and offerings for sale, as a TOML file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from numberpool.commands.common import CommandError, database_flags, run_with_store, say
from numberpool.core.catalog_admin import CatalogConflict, export_catalog, import_catalog
from numberpool.core.catalog_file import CatalogFileError, dump_catalog, read_catalog
from numberpool.store import Store


def register(commands: argparse._SubParsersAction) -> None:
    catalog = commands.add_parser("catalog", help="countries and offerings for sale (TOML catalog files)")
    sub = catalog.add_subparsers(dest="catalog_command", required=True)
    load = sub.add_parser("import", help="make the stored catalog what FILE declares (idempotent)")
    load.add_argument("file", type=Path, metavar="FILE")
    load.add_argument("--force", action="store_true",
                      help="remove offerings even when available numbers would have none left")
    database_flags(load)
    dump = sub.add_parser("export", help="print the stored catalog as a catalog file")
    database_flags(dump)


def run(args: argparse.Namespace) -> int:
    if args.catalog_command == "import":
        try:
            catalog = read_catalog(args.file)
        except CatalogFileError as exc:
            say(f"numberpool: error: {exc}")
            return 2

        async def load(store: Store) -> int:
            try:
                result = await import_catalog(store, catalog, force=args.force, source=str(args.file))
            except CatalogConflict as exc:
                raise CommandError(str(exc), status=1) from None
            for stranded in result.stranded:
                say(f"numberpool: warning: {stranded} have no offering left (--force)")
            for code in result.kept_countries:
                say(f"numberpool: {code} is not in the file but stays: numbers of it are stored")
            print(result.summary())
            return 0

        return run_with_store(args, load)

    async def dump(store: Store) -> int:
        sys.stdout.write(dump_catalog(await export_catalog(store)))
        sys.stdout.flush()
        return 0

    return run_with_store(args, dump)

