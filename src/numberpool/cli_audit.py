"""Commands for aging and the audit trail, thin over `core.aging` and `core.audit`.

    numberpool inventory release-aging NUMBER...   end the aging of numbers now (operator override)
    numberpool inventory history NUMBER            a number's state and its events
    numberpool audit export [--since T] [--until T] [--format csv|jsonl] [--output FILE]

`add_inventory_commands` adds the first two to the `inventory` command group and
`add_audit_command` adds `audit`; each command runs through `args.run_audit_command`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from contextlib import nullcontext
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from numberpool.core.aging import release_aging
from numberpool.core.audit import (
    EXPORT_FORMATS,
    EventWriter,
    export_events,
    history_lines,
    number_history,
    phone_number,
    service_now,
)
from numberpool.core.errors import AcsError
from numberpool.server.config import DEFAULT_DATA_DIR, MEMORY_DATABASES
from numberpool.store import Store, is_postgres_url, open_store


class CommandError(Exception):
    """A one-line message for the operator; the command exits with status 1."""


def _database_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                        help=f"where the database lives (default {DEFAULT_DATA_DIR})")
    parser.add_argument("--database", help="SQLite file path or postgresql:// URL (default: <data-dir>/numberpool.db)")


def add_inventory_commands(inventory: Any) -> None:
    """Add `release-aging` and `history` to the `inventory` group's subparsers."""
    release = inventory.add_parser("release-aging", help="end the aging of released numbers now (operator override)")
    release.add_argument("numbers", nargs="+", metavar="NUMBER", help="E.164 numbers, e.g. +14255550123")
    _database_flags(release)
    release.set_defaults(run_audit_command=_release_aging)

    history = inventory.add_parser("history", help="show a number's state and every event of its audit trail")
    history.add_argument("number", metavar="NUMBER", help="an E.164 number, e.g. +14255550123")
    _database_flags(history)
    history.set_defaults(run_audit_command=_history)


def add_audit_command(commands: Any) -> None:
    """Add the `audit` group to the top-level subparsers."""
    audit = commands.add_parser("audit", help="the audit trail of numbers and admin actions")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    export = audit_commands.add_parser("export", help="write events as CSV or JSON lines, oldest first, streamed")
    export.add_argument("--since", type=_moment, metavar="T",
                        help="only events at or after T (ISO 8601, e.g. 2026-03-01 or 2026-03-01T12:00:00Z; UTC "
                             "unless an offset is given)")
    export.add_argument("--until", type=_moment, metavar="T", help="only events before T (ISO 8601)")
    export.add_argument("--format", choices=EXPORT_FORMATS, default="csv", help="csv (default) or jsonl")
    export.add_argument("--output", type=Path, help="write to this file instead of standard output")
    _database_flags(export)
    export.set_defaults(run_audit_command=_export)


def run(args: argparse.Namespace) -> int:
    """Run the command `args` names; a problem is printed as one line on standard error, exit status 1."""
    try:
        return asyncio.run(args.run_audit_command(args))
    except (CommandError, AcsError, ValueError, OSError) as exc:
        message = exc.message if isinstance(exc, AcsError) else str(exc)
        print(f"numberpool {args.command}: error: {message}", file=sys.stderr)
        return 1
    except Exception as exc:  # a database that refuses the connection, a broken schema: still one line
        print(f"numberpool {args.command}: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r} (e.g. 2026-03-01T12:00:00Z)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


async def _with_store(args: argparse.Namespace, work: Callable[[Store], Awaitable[int]]) -> int:
    url = args.database or str(args.data_dir / "numberpool.db")
    if not is_postgres_url(url) and url not in MEMORY_DATABASES and "://" not in url and not Path(url).exists():
        raise CommandError(f"no database at {url} (give --database or --data-dir)")
    store = await open_store(url, max_size=2)
    try:
        return await work(store)
    finally:
        await store.close()


async def _release_aging(args: argparse.Namespace) -> int:
    numbers = [phone_number(raw) for raw in args.numbers]

    async def work(store: Store) -> int:
        ended = await release_aging(store, numbers, await service_now(store))
        for number in ended:
            print(f"{number}: available")
        skipped = [n for n in dict.fromkeys(numbers) if n not in ended]
        for number in skipped:
            print(f"{number}: not aging, left as it is", file=sys.stderr)
        return 0 if not skipped else 1

    return await _with_store(args, work)


async def _history(args: argparse.Namespace) -> int:
    e164 = phone_number(args.number)

    async def work(store: Store) -> int:
        number, events = await number_history(store, e164)
        for line in history_lines(number, e164, events):
            print(line)
        return 0 if number is not None or events else 1

    return await _with_store(args, work)


async def _export(args: argparse.Namespace) -> int:
    if args.since and args.until and args.until <= args.since:
        raise CommandError("--until must be later than --since")

    async def work(store: Store) -> int:
        writer = EventWriter(args.format)
        target: Any = args.output.open("w", encoding="utf-8", newline="") if args.output else nullcontext(sys.stdout)
        with target as out:
            _write(out, writer.header())
            async for event in export_events(store, args.since, args.until):
                _write(out, writer.line(event))
        return 0

    return await _with_store(args, work)


def _write(out: IO[str], text: str) -> None:
    if text:
        out.write(text)
