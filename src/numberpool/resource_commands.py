"""`numberpool resource ...`: manage resources (tenants) and keys straight on the database.

They call the same core functions as the admin API (core/resource_registry.py) and work
while servers run on that database: every server sees a change within seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from numberpool.server.config import DEFAULT_DATA_DIR, DEFAULT_PORT, MEMORY_DATABASES

if TYPE_CHECKING:
    from numberpool.core.resource_registry import ResourceRegistry

# The rest is imported when a resource command runs, so other commands start no slower.
KEY_SLOTS = ("primary", "secondary")  # core.resource_registry.KEY_SLOTS
DEFAULT_ENDPOINT = f"https://127.0.0.1:{DEFAULT_PORT}/"


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    resource = commands.add_parser("resource", help="create, list, show, rotate keys of and delete resources (tenants)")
    actions = resource.add_subparsers(dest="resource_command", required=True)

    def action(name: str, help: str) -> argparse.ArgumentParser:
        parser = actions.add_parser(name, help=help)
        parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                            help=f"the server's data directory (default {DEFAULT_DATA_DIR})")
        parser.add_argument("--database", help="SQLite file path or postgresql:// URL (default: <data-dir>/numberpool.db)")
        parser.add_argument("--keys-secret-file", type=Path,
                            help="the secret that seals access keys (default: NUMBERPOOL_KEYS_SECRET, else <data-dir>/keys.secret)")
        parser.add_argument("--json", action="store_true", help="print what the admin API answers, as JSON")
        return parser

    create = action("create", "create a resource and print its keys and connection string")
    create.add_argument("id")
    create.add_argument("--endpoint", default=DEFAULT_ENDPOINT,
                        help=f"the service's address for the connection string (default {DEFAULT_ENDPOINT})")
    action("list", "list the resources")
    action("show", "show a resource: owned numbers, last activity").add_argument("id")
    rotate = action("rotate-key", "replace one key; the other keeps working; the new key is printed once")
    rotate.add_argument("id")
    rotate.add_argument("--key", required=True, choices=KEY_SLOTS, help="which key to replace")
    rotate.add_argument("--endpoint", default=DEFAULT_ENDPOINT,
                        help=f"the service's address for the connection string (default {DEFAULT_ENDPOINT})")
    delete = action("delete", "delete a resource (refused while it owns numbers)")
    delete.add_argument("id")
    delete.add_argument("--release-numbers", action="store_true",
                        help="release the numbers it owns back to the inventory, then delete it")


def run(args: argparse.Namespace) -> int:
    import asyncpg

    from numberpool.core.errors import AcsError

    try:
        return asyncio.run(_run(args))
    except AcsError as error:
        return _fail(error.message)
    except (ValueError, OSError, sqlite3.Error, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        return _fail(str(exc) or type(exc).__name__)


def _fail(message: str) -> int:
    line = message.strip().splitlines()[0] if message.strip() else "failed"
    print(f"numberpool resource: error: {line}", file=sys.stderr)
    return 1


async def _run(args: argparse.Namespace) -> int:
    from numberpool.core.key_sealing import KeySealer
    from numberpool.core.resource_registry import ResourceRegistry
    from numberpool.server.keys_secret import load_keys_secret
    from numberpool.core.timeutil import SharedClock
    from numberpool.store import open_store

    url = args.database or str(args.data_dir / "numberpool.db")
    if url in MEMORY_DATABASES:
        raise ValueError("an in-memory database lives in one server process: give a database file or postgresql:// URL")
    if not args.database and not args.data_dir.is_dir():
        raise ValueError(f"{args.data_dir}: no such data directory (give --data-dir or --database)")
    sealer = KeySealer(load_keys_secret(args.keys_secret_file, args.data_dir))
    store = await open_store(url, max_size=2)
    try:
        # The service's time, test clock included, as the servers on this database see it.
        registry = ResourceRegistry(store, sealer, SharedClock(store))
        return await _ACTIONS[args.resource_command](registry, args)
    finally:
        await store.close()


def _print(args: argparse.Namespace, body: Any, lines: list[str]) -> int:
    print(json.dumps(body, indent=2) if args.json else "\n".join(lines))
    return 0


async def _create(registry: ResourceRegistry, args: argparse.Namespace) -> int:
    from numberpool.api.admin.resources import issued_json

    issued = await registry.create(args.id)
    body = issued_json(issued, args.endpoint)
    return _print(args, body, [
        f"resource {issued.id} created; its keys are shown this once",
        f"primary key:       {issued.primary_key}",
        f"secondary key:     {issued.secondary_key}",
        f"connection string: {body['connectionString']}",
    ])


async def _list(registry: ResourceRegistry, args: argparse.Namespace) -> int:
    from numberpool.api.admin.resources import resource_json

    resources = [resource_json(info) for info in await registry.list()]
    rows = [("ID", "OWNED NUMBERS", "KEYS", "DECLARED", "CREATED")] + [
        (r["id"], str(r["ownedNumbers"]), ",".join(r["keys"]), "yes" if r["declared"] else "no", r["createdAt"])
        for r in resources
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    return _print(args, {"value": resources}, lines)


async def _show(registry: ResourceRegistry, args: argparse.Namespace) -> int:
    from numberpool.api.admin.resources import resource_json

    r = resource_json(await registry.show(args.id))
    return _print(args, r, [
        f"id:             {r['id']}",
        f"owned numbers:  {r['ownedNumbers']}",
        f"last activity:  {r.get('lastActivity', 'never')}",
        f"keys:           {', '.join(r['keys'])}",
        f"declared:       {'yes (--resource/--config set its keys at each start)' if r['declared'] else 'no'}",
        f"created:        {r['createdAt']}",
        f"updated:        {r['updatedAt']}",
    ])


async def _rotate_key(registry: ResourceRegistry, args: argparse.Namespace) -> int:
    from numberpool.api.admin.resources import connection_string, issued_json

    issued = await registry.rotate_key(args.id, args.key)
    key = issued.primary_key or issued.secondary_key
    assert key is not None
    lines = [
        f"new {args.key} key of {issued.id} (shown this once; the {'secondary' if args.key == 'primary' else 'primary'}"
        " key keeps working):",
        key,
        f"connection string: {connection_string(args.endpoint, key)}",
    ]
    return _print(args, issued_json(issued, args.endpoint), lines)


async def _delete(registry: ResourceRegistry, args: argparse.Namespace) -> int:
    released = await registry.delete(args.id, release_numbers=args.release_numbers)
    return _print(args, {"id": args.id, "releasedNumbers": released},
                  [f"resource {args.id} deleted; {released} number(s) released"])


_ACTIONS = {"create": _create, "list": _list, "show": _show, "rotate-key": _rotate_key, "delete": _delete}
