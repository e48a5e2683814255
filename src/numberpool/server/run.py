"""Starting the service: prepare the store, then serve with one or more worker processes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import uvicorn
from starlette.applications import Starlette

from numberpool.api.admin.app import AdminApi
from numberpool.api.app import create_app
from numberpool.api.entra import EntraVerifier, KeySet
from numberpool.api.health import Readiness
from numberpool.api.metrics import Metrics
from numberpool.api.metrics_endpoint import metrics_app
from numberpool.core.catalog_admin import CatalogConflict, import_catalog
from numberpool.core.catalog_file import read_catalog
from numberpool.core.context import Context
from numberpool.core.faults import FaultBook
from numberpool.core.import_jobs import stop_imports
from numberpool.core.key_sealing import KeySealer, new_secret
from numberpool.core.resource_cache import ResourceCache
from numberpool.core.resource_registry import ResourceRegistry
from numberpool.core.seed import demo_seed_plan, ensure_demo_inventory
from numberpool.core.timeutil import SharedClock
from numberpool.api.admin_auth import DEV_ADMIN_TOKEN
from numberpool.server.config import MEMORY_DATABASES, ServerConfig
from numberpool.server.graceful import GracefulHttpToolsProtocol
from numberpool.server.logs import configure_logging
from numberpool.server.metrics_dir import MetricsMultiprocess, multiprocess_metrics
from numberpool.server.keys_secret import load_keys_secret
from numberpool.server.tls import development_tls
from numberpool.store import Store, open_store

log = logging.getLogger("numberpool")

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
    await _seed_demo(store, config)
    if config.catalog is not None:
        result = await import_catalog(store, read_catalog(config.catalog), source=str(config.catalog))
        say(f"numberpool: {config.catalog}: {result.summary()}")


async def _seed_demo(store: Store, config: ServerConfig) -> None:
    plan = await demo_seed_plan(store, config.inventory_size)
    if plan is not None:
        started = time.monotonic()
        doing = "resuming the interrupted seeding of" if plan.resuming else "seeding"
        say(f"numberpool: {doing} the demo inventory ({plan.per_area_code} numbers per area code)...")
        added = await ensure_demo_inventory(store, plan)
        say(f"numberpool: seeded {added} numbers in {time.monotonic() - started:.1f}s")


async def _sweep_forever(ctx: Context, every: float, succeeded: Callable[[], None]) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            await ctx.clock.sync()
            returned = await ctx.store.sweep_expired(ctx.clock.epoch())
            if returned:
                log.info("sweep returned %d expired holds to the inventory", returned)
            succeeded()
        except Exception:  # the next sweep tries again; /readyz fails once it has failed for long
            log.exception("sweep failed")


def build_app(config: ServerConfig, metrics: Metrics | None = None) -> Starlette:
    """The ASGI app of one process; its store opens and its sweeper starts with the lifespan."""
    ctx = Context(store=_NotOpen(), settings=config.settings())  # type: ignore[arg-type]
    if config.testing:
        ctx.clock = SharedClock()
        ctx.faults = FaultBook()
    metrics = metrics or Metrics()
    ctx.operation_recorded = metrics.operation_recorded
    readiness = Readiness(ctx, config.sweep_seconds)

    def sweep_succeeded() -> None:
        readiness.sweep_succeeded()
        metrics.sweep_succeeded(time.time())
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
        if ctx.faults is not None:
            ctx.faults.store = ctx.store
        await cache.refresh()
        tasks = [
            asyncio.create_task(_sweep_forever(ctx, config.sweep_seconds, sweep_succeeded)),
            asyncio.create_task(cache.keep_fresh()),
        ]
        metrics.serving(time.time())
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await stop_imports()
            await ctx.store.close()

    return create_app(
        ctx, cache, skip_api_version_check=config.skip_api_version_check, lifespan=lifespan,
        testing=config.testing, admin_token=config.effective_admin_token(), entra=_entra_verifier(config, ctx),
        metrics=metrics, metrics_route=config.metrics_port is None, readiness=readiness,
        admin=AdminApi(config.effective_admin_token(), registry, ctx),
    )


def _entra_verifier(config: ServerConfig, ctx: Context) -> EntraVerifier | None:
    if not config.entra:
        return None
    keys = KeySet(config.entra_jwks) if config.entra_jwks else None
    return EntraVerifier(lambda: ctx.clock.epoch(), https=config.tls, keys=keys)  # the clock the test clock moves


def _announce_entra(config: ServerConfig) -> None:
    if not config.entra:
        return
    if not config.tls:
        say("numberpool: --entra without TLS: every bearer token is refused (they are accepted only over HTTPS)")
    elif config.entra_jwks:
        say(f"numberpool: Microsoft Entra ID tokens accepted, signatures checked against {config.entra_jwks}")
    else:
        say("numberpool: Microsoft Entra ID tokens accepted WITHOUT signature checks (development only); "
            "mint one with `numberpool token`")


def worker_app() -> Starlette:
    """The app factory each worker process imports; the parent passes the config in the environment."""
    config = ServerConfig.from_json(os.environ[CONFIG_ENV])
    configure_logging(config.log_format, config.log_level)
    return build_app(config)


class _NotOpen:
    def __getattr__(self, name: str) -> object:
        raise RuntimeError("the store is opened by the application lifespan")


def _tls_options(config: ServerConfig) -> dict[str, str]:
    if not config.tls:
        return {}
    if config.cert and config.key:
        return {"ssl_certfile": str(config.cert), "ssl_keyfile": str(config.key)}
    # With --entra, `<resource>.localhost` names the resource a token acts as: the certificate covers those names.
    names = [f"{spec.id.lower()}.localhost" for spec in config.resources] if config.entra else []
    files = development_tls(config.data_dir, (config.public_host, *names))
    ca = files.ca.resolve() if files.ca else None
    say(f"numberpool: HTTPS with the development CA {ca}. Trust it in clients with:")
    say(f"  export REQUESTS_CA_BUNDLE={ca} SSL_CERT_FILE={ca} NODE_EXTRA_CA_CERTS={ca}")
    return {"ssl_certfile": str(files.cert), "ssl_keyfile": str(files.key)}


def _announce_testing(config: ServerConfig) -> None:
    say("numberpool: testing mode: fault rules, reset and the test clock under /_numberpool/")
    if config.effective_admin_token() == DEV_ADMIN_TOKEN:
        say(f"numberpool: the well-known development admin token opens them: Authorization: Bearer {DEV_ADMIN_TOKEN}")


def _exit_after_shutdown(signum: int, frame: object) -> None:
    """SIGTERM is how orchestrators stop a service: a clean stop, exit status 0.

    While it serves, uvicorn handles SIGTERM itself (stop accepting, let in-flight requests
    finish within --shutdown-timeout, run the lifespan's shutdown) and then raises the signal
    again for the handler that was there before it: this one. Before it serves (migrating,
    seeding: both resume on the next start), this one simply stops the process. With
    --workers, uvicorn's supervisor stops the workers the same way and exits 0 itself.
    """
    raise SystemExit(0)


def serve(config: ServerConfig) -> None:
    config.validate()
    signal.signal(signal.SIGTERM, _exit_after_shutdown)
    config.data_dir.mkdir(parents=True, exist_ok=True)
    configure_logging(config.log_format, config.log_level)
    tls = _tls_options(config)
    _announce_entra(config)
    try:
        asyncio.run(prepare_store(config))
    except (CatalogConflict, ValueError) as exc:  # the catalog, the keys secret, a declared resource: the operator's to fix
        say(f"numberpool: error: {exc}")
        raise SystemExit(1) from None
    if config.testing:
        _announce_testing(config)
    common = dict(
        host=config.host, log_level=config.log_level, log_config=None, access_log=False, lifespan="on",
        http=GracefulHttpToolsProtocol, timeout_graceful_shutdown=config.shutdown_timeout, **tls,
    )
    with contextlib.ExitStack() as stack:
        if config.workers > 1:
            stack.enter_context(multiprocess_metrics())  # before anything imports prometheus-client
        else:  # one process keeps its samples in memory; never sum another run's leftover files
            os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
        metrics = Metrics() if config.workers == 1 else None  # the workers' own are in the directory
        if config.metrics_port is not None:
            stack.enter_context(_metrics_server(config, common, metrics))
        if config.workers > 1:
            _serve_workers(config, common)
        else:
            _serve_one(config, common, metrics)


def _serve_workers(config: ServerConfig, common: dict[str, Any]) -> None:
    os.environ[CONFIG_ENV] = config.to_json()
    uv_config = uvicorn.Config(
        "numberpool.server.run:worker_app", factory=True, workers=config.workers, port=config.port, **common
    )
    try:
        sock = uv_config.bind_socket()
    except SystemExit:
        raise SystemExit(1) from None
    # Listening now, not when the first worker starts: a client connecting after "ready" waits
    # in the backlog instead of being refused while the workers import and open their stores.
    sock.listen(uv_config.backlog)
    say(f"numberpool: {config.workers} worker processes")
    say(READY + config.connection_string())
    MetricsMultiprocess(uv_config, sockets=[sock]).run()


def _serve_one(config: ServerConfig, common: dict[str, Any], metrics: Metrics | None) -> None:
    server = uvicorn.Server(uvicorn.Config(build_app(config, metrics), port=config.port, **common))
    bind = server.startup

    async def startup(sockets: list[socket.socket] | None = None) -> None:
        await bind(sockets)
        if server.started:
            say(READY + config.connection_string())

    server.startup = startup  # type: ignore[method-assign]
    server.run()
    if not server.started:
        raise SystemExit(1)


@contextlib.contextmanager
def _metrics_server(config: ServerConfig, common: dict[str, Any], metrics: Metrics | None) -> Iterator[None]:
    """`--metrics-port`: /metrics alone on its own port, served by a thread of this process with a store of its own.

    With one process its instruments are this process's (the same registry); with workers,
    the multiprocess directory's.
    """
    ctx = Context(store=_NotOpen(), settings=config.settings())  # type: ignore[arg-type]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        ctx.store = await open_store(config.database_url(), min_size=1, max_size=1)
        try:
            yield
        finally:
            await ctx.store.close()

    server = uvicorn.Server(uvicorn.Config(metrics_app(metrics, ctx, lifespan), port=config.metrics_port, **common))
    # uvicorn installs no signal handlers off the main thread: the main server owns them.
    thread = threading.Thread(target=server.run, name="numberpool-metrics", daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(config.shutdown_timeout + 2)
