"""The `numberpool` command line."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from numberpool import __version__, resource_commands
from numberpool.core.resources import parse_resource_flag
from numberpool.server.config import DEFAULT_DATA_DIR, DEFAULT_PORT, ServerConfig, load_file


def _server_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port to listen on (default {DEFAULT_PORT})")
    parser.add_argument("--no-tls", action="store_true", help="serve plain HTTP instead of HTTPS")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="numberpool",
        description="A phone-number inventory that speaks the Azure Communication Services Phone Numbers API.",
    )
    parser.add_argument("--version", action="version", version=f"numberpool {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the service")
    _server_flags(serve)
    serve.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                       help=f"where the database and TLS files live (default {DEFAULT_DATA_DIR})")
    serve.add_argument("--database", help="SQLite file path, or 'memory' (default: <data-dir>/numberpool.db)")
    serve.add_argument("--cert", type=Path, help="TLS certificate chain (PEM) instead of the development one")
    serve.add_argument("--key", type=Path, help="TLS private key (PEM) for --cert")
    serve.add_argument("--hold-minutes", type=float, default=15.0,
                       help="how long a search holds its numbers, at most 15 (default 15)")
    serve.add_argument("--operation-latency", type=float, default=0.0,
                       help="seconds each long-running operation reports notStarted/running (default 0)")
    serve.add_argument("--inventory-size", type=int, default=1000,
                       help="demo numbers per area code seeded into an empty database (default 1000; 0: none)")
    serve.add_argument("--sweep-seconds", type=float, default=30.0,
                       help="how often expired holds are returned to the inventory (default 30)")
    serve.add_argument("--pool-size", type=int, default=10,
                       help="PostgreSQL connections per worker process (default 10)")
    serve.add_argument("--workers", type=int, default=1,
                       help="worker processes sharing the port (default 1); all share one database")
    serve.add_argument("--resource", action="append", default=[], metavar="ID=KEY[,KEY2]",
                       help="declare another resource (tenant) with base64 access keys; repeatable")
    serve.add_argument("--config", type=Path, help="TOML file with [[resources]] tables (id, keys)")
    serve.add_argument("--keys-secret-file", type=Path, default=None,
                       help="the secret that seals access keys in the database"
                            " (default: NUMBERPOOL_KEYS_SECRET, else <data-dir>/keys.secret, created on first start)")
    serve.add_argument("--admin-token", default=None,
                       help="bearer token that opens /_numberpool/ (admin API); without it those paths answer 404")
    serve.add_argument("--seed", type=int, default=None,
                       help="make browse results reproducible: same seed and inventory, same answer (default: random)")
    serve.add_argument("--skip-api-version-check", action="store_true",
                       help="answer unknown api-versions with the newest shapes instead of a 400")
    # Test-only, so not in --help: the clock offset lives in the database and POST /_numberpool/clock
    # (signed with the development key) moves it for every process. See the README.
    serve.add_argument("--test-clock", action="store_true", help=argparse.SUPPRESS)

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_commands.add_parser("upgrade", help="apply pending schema migrations and exit")
    upgrade.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    upgrade.add_argument("--database", help="SQLite file path or postgresql:// URL (default: <data-dir>/numberpool.db)")

    resource_commands.add_parser(commands)

    conn = commands.add_parser("connection-string", help="print the development resource's connection string")
    _server_flags(conn)
    return parser


def _config(args: argparse.Namespace) -> ServerConfig:
    config = ServerConfig(host=args.host, port=args.port, tls=not args.no_tls)
    if args.command == "serve":
        config.data_dir = args.data_dir
        config.database = args.database
        config.cert, config.key = args.cert, args.key
        config.hold_minutes = args.hold_minutes
        config.operation_latency = args.operation_latency
        config.inventory_size = args.inventory_size
        config.sweep_seconds = args.sweep_seconds
        config.workers = args.workers
        config.pool_size = args.pool_size
        config.skip_api_version_check = args.skip_api_version_check
        config.seed = args.seed
        config.test_clock = args.test_clock
        config.admin_token = args.admin_token
        config.keys_secret_file = args.keys_secret_file
        config.resources.extend(parse_resource_flag(flag) for flag in args.resource)
        if args.config:
            load_file(args.config, config)
        config.validate()
    return config


def _upgrade(args: argparse.Namespace) -> int:
    from numberpool.store import upgrade

    url = args.database or str(args.data_dir / "numberpool.db")
    if not args.database:
        args.data_dir.mkdir(parents=True, exist_ok=True)
    applied = asyncio.run(upgrade(url))
    print(f"applied migrations: {', '.join(map(str, applied))}" if applied else "the schema is up to date")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "resource":
        return resource_commands.run(args)
    if args.command == "db":
        try:
            return _upgrade(args)
        except (ValueError, OSError) as exc:
            parser.error(str(exc))
    try:
        config = _config(args)
    except (ValueError, OSError) as exc:
        parser.error(str(exc))
    if args.command == "connection-string":
        print(config.connection_string())
        return 0
    from numberpool.server.run import serve

    serve(config)
    return 0


if __name__ == "__main__":
    sys.exit(main())
