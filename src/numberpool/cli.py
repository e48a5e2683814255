"""The `numberpool` command line."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from dataclasses import fields
from collections.abc import Sequence
from pathlib import Path

from numberpool import __version__, cli_audit, resource_commands
from numberpool.commands import catalog as catalog_commands
from numberpool.commands import inventory as inventory_commands
from numberpool.core.catalog_file import read_catalog
from numberpool.core.resources import parse_resource_flag
from numberpool.server.config import (
    DEFAULT_DATA_DIR,
    DEFAULT_PORT,
    DEFAULT_SHUTDOWN_TIMEOUT,
    ServerConfig,
    load_file,
)
from numberpool.server.config_sources import apply_defaults, config_path, read_file

LOG_FORMATS = ("auto", "json", "text")
LOG_LEVELS = ("debug", "info", "warning", "error")


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
    serve.add_argument("--shutdown-timeout", type=float, default=DEFAULT_SHUTDOWN_TIMEOUT,
                       help="on SIGTERM, seconds to let in-flight requests finish before closing their "
                            f"connections (default {DEFAULT_SHUTDOWN_TIMEOUT:g})")
    serve.add_argument("--resource", action="append", default=[], metavar="ID=KEY[,KEY2]",
                       help="declare another resource (tenant) with base64 access keys; repeatable")
    serve.add_argument("--config", type=Path,
                       help="TOML file: any serve setting by its flag name (port = 8443) and [[resources]] tables")
    serve.add_argument("--keys-secret-file", type=Path, default=None,
                       help="the secret that seals access keys in the database"
                            " (default: NUMBERPOOL_KEYS_SECRET, else <data-dir>/keys.secret, created on first start)")
    serve.add_argument("--admin-token", default=None,
                       help="bearer token that opens /_numberpool/ (admin API, testing controls); "
                            "without it those paths answer 404")
    serve.add_argument("--entra", action="store_true",
                       help="also accept Microsoft Entra ID bearer tokens over HTTPS; their signatures are NOT "
                            "checked (development only) unless --entra-jwks is given; see docs/testing.md")
    serve.add_argument("--entra-jwks", metavar="FILE|URL", default=None,
                       help="check Entra ID token signatures (RS256/ES256) against this JWK Set; implies --entra")
    serve.add_argument("--catalog", type=Path, metavar="FILE",
                       help="catalog file (TOML) to import at start, as `numberpool catalog import FILE` does")
    serve.add_argument("--seed", type=int, default=None,
                       help="make browse results reproducible: same seed and inventory, same answer (default: random)")
    serve.add_argument("--skip-api-version-check", action="store_true",
                       help="answer unknown api-versions with the newest shapes instead of a 400")
    serve.add_argument("--testing", action="store_true",
                       help="testing mode: fault rules, reset and the test clock under /_numberpool/ "
                            "(admin token; the well-known development one unless --admin-token); never in production")
    # The test clock's older flag, now part of testing mode.
    serve.add_argument("--test-clock", action="store_true", dest="testing", help=argparse.SUPPRESS)
    serve.add_argument("--log-format", choices=LOG_FORMATS, default="auto",
                       help="json: one JSON object per line; text: readable lines; auto (default): json unless "
                            "stdout is a terminal")
    serve.add_argument("--log-level", choices=LOG_LEVELS, default="info",
                       help="least severe level logged (default info: one access line per request)")
    serve.add_argument("--metrics-port", type=int, default=None,
                       help="serve /metrics on this port instead of the service's port")

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_commands.add_parser("upgrade", help="apply pending schema migrations and exit")
    upgrade.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    upgrade.add_argument("--database", help="SQLite file path or postgresql:// URL (default: <data-dir>/numberpool.db)")

    token = commands.add_parser(
        "token", help="print a development Microsoft Entra ID token that `serve --entra` accepts (unsigned)"
    )
    token.add_argument("--resource", metavar="ID", default=None,
                       help="the resource the token is for (default: the one the request's host names, "
                            "else the development resource)")
    token.add_argument("--minutes", type=float, default=60.0, help="how long the token is valid (default 60)")

    catalog_commands.register(commands)
    inventory_commands.register(commands)
    cli_audit.add_audit_command(commands)
    resource_commands.add_parser(commands)

    conn = commands.add_parser("connection-string", help="print the development resource's connection string")
    _server_flags(conn)

    health = commands.add_parser("healthcheck", help="exit 0 if the server is ready (/readyz answers 200), else 1")
    _server_flags(health)
    health.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                        help="where the development CA is, trusted by default (default .numberpool)")
    health.add_argument("--url", help="the readiness URL (default: /readyz at --host and --port)")
    health.add_argument("--cafile", type=Path,
                        help="CA certificates to trust (default: <data-dir>/tls/ca.pem if it exists, else the system's)")
    health.add_argument("--insecure", action="store_true", help="do not verify the server's certificate")
    health.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for an answer (default 5)")
    return parser


def _apply_sources(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse `argv` with the environment and the config file as defaults (see `server/config_sources.py`)."""
    args = parser.parse_args(argv)
    command = _subparsers(parser)[args.command]
    environ = os.environ
    try:
        path = config_path(getattr(args, "config", None), environ)
        file = read_file(path) if path is not None else None
        apply_defaults(command, environ, file, path, strict=args.command == "serve")
        if args.command == "serve" and path is not None:
            command.set_defaults(config=path)
    except (ValueError, OSError) as exc:
        command.error(str(exc))
    return parser.parse_args(argv)


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


# ServerConfig fields that `serve` does not copy one to one from a flag of the same name.
_DERIVED_FIELDS = frozenset({"host", "port", "tls", "entra", "resources"})


def _config(args: argparse.Namespace) -> ServerConfig:
    config = ServerConfig(host=args.host, port=args.port, tls=not args.no_tls)
    if args.command == "serve":
        for name in (f.name for f in fields(ServerConfig) if f.name not in _DERIVED_FIELDS):
            setattr(config, name, getattr(args, name))
        config.entra = args.entra or bool(args.entra_jwks)
        config.resources.extend(parse_resource_flag(flag) for flag in args.resource)
        if args.config:
            load_file(args.config, config)
        config.validate()
        if config.catalog is not None:
            read_catalog(config.catalog)  # a bad file stops here, with its one-line error
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
    args = _apply_sources(parser, argv)
    if getattr(args, "run_audit_command", None):
        return cli_audit.run(args)
    if args.command == "catalog":
        return catalog_commands.run(args)
    if args.command == "inventory":
        return inventory_commands.run(args)
    if args.command == "resource":
        return resource_commands.run(args)
    if args.command == "db":
        try:
            return _upgrade(args)
        except (ValueError, OSError) as exc:
            parser.error(str(exc))
    if args.command == "token":
        from numberpool.tokens import development_token

        try:
            print(development_token(args.resource, args.minutes))
        except ValueError as exc:
            parser.error(str(exc))
        return 0
    try:
        config = _config(args)
    except (ValueError, OSError) as exc:
        parser.error(str(exc))
    if args.command == "connection-string":
        print(config.connection_string())
        return 0
    if args.command == "healthcheck":
        from numberpool.server.healthcheck import check

        return check(args.url or config.endpoint() + "readyz", args.cafile, args.data_dir, args.insecure, args.timeout)
    from numberpool.server.run import serve

    serve(config)
    return 0


if __name__ == "__main__":
    sys.exit(main())
