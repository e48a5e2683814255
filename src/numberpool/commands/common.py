"""What every operator command shares: the database flags, opening the store, one-line errors."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from numberpool.server.config import DEFAULT_DATA_DIR
from numberpool.store import Store, open_store


class CommandError(Exception):
    """An operator error: printed as one line, then the process exits with `status`."""

    def __init__(self, message: str, status: int = 2) -> None:
        super().__init__(message)
        self.status = status


def database_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                        help=f"where the database lives (default {DEFAULT_DATA_DIR}), as for serve")
    parser.add_argument("--database",
                        help="SQLite file path or postgresql:// URL (default: <data-dir>/numberpool.db), as for serve")


def database_url(args: argparse.Namespace) -> str:
    if args.database:
        return args.database
    args.data_dir.mkdir(parents=True, exist_ok=True)
    return str(args.data_dir / "numberpool.db")


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_with_store(args: argparse.Namespace, work: Callable[[Store], Awaitable[int]]) -> int:
    """Open the database, run `work`, close; any error becomes one line on stderr and a non-zero status."""

    async def main() -> int:
        try:
            store = await open_store(database_url(args))
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot open the database: {exc}") from None
        try:
            return await work(store)
        finally:
            await store.close()

    try:
        return asyncio.run(main())
    except CommandError as exc:
        say(f"numberpool: error: {exc}")
        return exc.status
    except KeyboardInterrupt:
        say("numberpool: interrupted (what was loaded so far stays; running the command again resumes)")
        return 130
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away (`... | head`): nothing more to say
        return 0
    except Exception as exc:  # a database error, not the operator's input: still one line, no traceback
        say(f"numberpool: error: {type(exc).__name__}: {exc}")
        return 1
