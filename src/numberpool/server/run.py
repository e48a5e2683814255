"""Starting the service: prepare the store, then serve with one or more worker processes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import sys
import time
from collections.abc import AsyncIterator

import uvicorn
from starlette.applications import Starlette
from uvicorn.supervisors import Multiprocess

from numberpool.api.admin.app import AdminApi
from numberpool.api.app import create_app
from numberpool.core.context import Context
from numberpool.core.key_sealing import KeySealer, new_secret
from numberpool.core.resource_cache import ResourceCache
from numberpool.core.resource_registry import ResourceRegistry
from numberpool.core.seed import demo_seed_plan, ensure_demo_inventory
from numberpool.core.timeutil import SharedClock
from numberpool.server.config import MEMORY_DATABASES, ServerConfig
from numberpool.server.keys_secret import load_keys_secret
from numberpool.server.tls import development_tls
from numberpool.store import Store, open_store

log = logging.getLogger("numberpool")

# Every request is answered in milliseconds, so a few seconds is plenty for those in
# flight. Without a bound, each idle keep-alive TLS client (SDKs pool connections)
# keeps a stopping server waiting for its close_notify, up to asyncio's 30 s.
GRACEFUL_SHUTDOWN_SECONDS = 3

CONFIG_ENV = "NUMBERPOOL_SERVER_CONFIG"
READY = "numberpool: ready. Connection string: "


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


async def prepare_store(config: ServerConfig) -> None:
    """Migrate the database and seed the demo inventory, once, before any worker starts.

    An empty database is seeded; one whose seeding an earlier start began and did not finish
    (the process was killed) is seeded on to completion.
    """
    if config.database_url() in MEMORY_DATABASES:
        return  # an in-memory database lives and dies with one connection: the app's lifespan seeds it
    store = await open_store(config.database_url())
    try:
        await _seed(store, config)
        await _declare(store, config)
    finally:
        await store.close()


def _keys_secret(config: ServerConfig) -> bytes:
    """The secret that seals the access keys; an in-memory database, whose keys die with it, needs no file."""
    if config.database_url() in MEMORY_DATABASES:
        return new_secret()
    return load_keys_secret(config.keys_secret_file, config.data_dir)


async def _declare(store: Store, config: ServerConfig, registry: ResourceRegistry | None = None) -> None:
    """Make the database hold the resources `--resource` and `--config` declare, with their keys."""
    registry = registry or ResourceRegistry(store, KeySealer(_keys_secret(config)))
    changed = await registry.declare(config.resources)
    if changed:
        say(f"numberpool: declared resources stored: {', '.join(changed)}")


async def _seed(store: Store, config: ServerConfig) -> None:
    plan = await demo_seed_plan(store, config.inventory_size)
    if plan is not None:
        started = time.monotonic()
        doing = "resuming the interrupted seeding of" if plan.resuming else "seeding"
        say(f"numberpool: {doing} the demo inventory ({plan.per_area_code} numbers per area code)...")
        added = await ensure_demo_inventory(store, plan)
        say(f"numberpool: seeded {added} numbers in {time.monotonic() - started:.1f}s")


async def _sweep_forever(ctx: Context, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            await ctx.clock.sync()
            returned = await ctx.store.sweep_expired(ctx.clock.epoch())
            if returned:
                log.info("sweep returned %d expired holds to the inventory", returned)
        except Exception:  # the next sweep tries again
            log.exception("sweep failed")


def build_app(config: ServerConfig) -> Starlette:
    """The ASGI app of one process; its store opens and its sweeper starts with the lifespan."""
    ctx = Context(store=_NotOpen(), settings=config.settings())  # type: ignore[arg-type]
    if config.test_clock:
        ctx.clock = SharedClock()
    registry = ResourceRegistry(_NotOpen(), KeySealer(_keys_secret(config)), ctx.clock)  # type: ignore[arg-type]
    cache = ResourceCache(registry)
    registry.changed = cache.refresh

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        ctx.store = await open_store(config.database_url(), max_size=config.pool_size)
        registry.store = ctx.store
        if config.database_url() in MEMORY_DATABASES:
            await _seed(ctx.store, config)
            await _declare(ctx.store, config, registry)
        if isinstance(ctx.clock, SharedClock):
            ctx.clock.store = ctx.store
        await cache.refresh()
        tasks = [asyncio.create_task(_sweep_forever(ctx, config.sweep_seconds)), asyncio.create_task(cache.keep_fresh())]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await ctx.store.close()

    return create_app(
        ctx, cache, skip_api_version_check=config.skip_api_version_check, lifespan=lifespan,
        test_clock=config.test_clock, admin=AdminApi(config.admin_token, registry),
    )


def worker_app() -> Starlette:
    """The app factory each worker process imports; the parent passes the config in the environment."""
    return build_app(ServerConfig.from_json(os.environ[CONFIG_ENV]))


class _NotOpen:
    def __getattr__(self, name: str) -> object:
        raise RuntimeError("the store is opened by the application lifespan")


def _tls_options(config: ServerConfig) -> dict[str, str]:
    if not config.tls:
        return {}
    if config.cert and config.key:
        return {"ssl_certfile": str(config.cert), "ssl_keyfile": str(config.key)}
    files = development_tls(config.data_dir, (config.public_host,))
    ca = files.ca.resolve() if files.ca else None
    say(f"numberpool: HTTPS with the development CA {ca}. Trust it in clients with:")
    say(f"  export REQUESTS_CA_BUNDLE={ca} SSL_CERT_FILE={ca} NODE_EXTRA_CA_CERTS={ca}")
    return {"ssl_certfile": str(files.cert), "ssl_keyfile": str(files.key)}


def serve(config: ServerConfig) -> None:
    config.validate()
    config.data_dir.mkdir(parents=True, exist_ok=True)
    tls = _tls_options(config)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        asyncio.run(prepare_store(config))
    except ValueError as exc:  # the keys secret, a declared resource: the operator's to fix
        say(f"numberpool: error: {exc}")
        raise SystemExit(1) from None
    common = dict(
        host=config.host, port=config.port, log_level="warning", access_log=False, lifespan="on",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS, **tls,
    )
    if config.workers > 1:
        os.environ[CONFIG_ENV] = config.to_json()
        uv_config = uvicorn.Config("numberpool.server.run:worker_app", factory=True, workers=config.workers, **common)
        try:
            sock = uv_config.bind_socket()
        except SystemExit:
            raise SystemExit(1) from None
        say(f"numberpool: {config.workers} worker processes")
        say(READY + config.connection_string())
        Multiprocess(uv_config, sockets=[sock]).run()
        return

    server = uvicorn.Server(uvicorn.Config(build_app(config), **common))
    bind = server.startup

    async def startup(sockets: list[socket.socket] | None = None) -> None:
        await bind(sockets)
        if server.started:
            say(READY + config.connection_string())

    server.startup = startup  # type: ignore[method-assign]
    server.run()
    if not server.started:
        raise SystemExit(1)
