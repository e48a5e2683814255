"""Starting the service: store, demo seed, sweeper, ASGI server."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import sys
import time
from collections.abc import AsyncIterator

import uvicorn
from starlette.applications import Starlette

from numberpool.api.app import create_app
from numberpool.core.context import Context
from numberpool.core.seed import seed_demo
from numberpool.server.config import ServerConfig
from numberpool.server.tls import development_tls
from numberpool.store import open_store

log = logging.getLogger("numberpool")


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


async def _sweep_forever(ctx: Context, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            returned = await ctx.store.sweep_expired(ctx.clock.epoch())
            if returned:
                log.info("sweep returned %d expired holds to the inventory", returned)
        except Exception:  # the next sweep tries again
            log.exception("sweep failed")


def build_app(config: ServerConfig) -> Starlette:
    resources = [spec.to_resource() for spec in config.resources]
    ctx_holder: dict[str, Context] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        store = await open_store(config.database_url())
        ctx = ctx_holder["ctx"]
        ctx.store = store
        if config.inventory_size and await store.is_empty():
            started = time.monotonic()
            say(f"numberpool: seeding the demo inventory ({config.inventory_size} numbers per area code)...")
            added = await seed_demo(store, config.inventory_size)
            say(f"numberpool: seeded {added} numbers in {time.monotonic() - started:.1f}s")
        sweeper = asyncio.create_task(_sweep_forever(ctx, config.sweep_seconds))
        try:
            yield
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
            await store.close()

    ctx = Context(store=None, settings=config.settings())  # type: ignore[arg-type]  # set in lifespan
    ctx_holder["ctx"] = ctx
    return create_app(ctx, resources, skip_api_version_check=config.skip_api_version_check, lifespan=lifespan)


def serve(config: ServerConfig) -> None:
    config.validate()
    config.data_dir.mkdir(parents=True, exist_ok=True)
    ssl: dict[str, str] = {}
    if config.tls:
        if config.cert and config.key:
            ssl = {"ssl_certfile": str(config.cert), "ssl_keyfile": str(config.key)}
        else:
            files = development_tls(config.data_dir, (config.public_host,))
            ssl = {"ssl_certfile": str(files.cert), "ssl_keyfile": str(files.key)}
            ca = files.ca.resolve() if files.ca else None
            say(f"numberpool: HTTPS with the development CA {ca}. Trust it in clients with:")
            say(f"  export REQUESTS_CA_BUNDLE={ca} SSL_CERT_FILE={ca} NODE_EXTRA_CA_CERTS={ca}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    server = uvicorn.Server(
        uvicorn.Config(
            build_app(config),
            host=config.host,
            port=config.port,
            log_level="warning",
            access_log=False,
            lifespan="on",
            **ssl,  # type: ignore[arg-type]
        )
    )
    bind = server.startup

    async def startup(sockets: list[socket.socket] | None = None) -> None:
        await bind(sockets)
        if server.started:
            say(f"numberpool: ready. Connection string: {config.connection_string()}")

    server.startup = startup  # type: ignore[method-assign]
    server.run()
    if not server.started:
        raise SystemExit(1)
