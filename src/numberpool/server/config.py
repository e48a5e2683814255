"""Server configuration from flags and an optional TOML file."""

from __future__ import annotations

import json
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from numberpool.api.admin_auth import DEV_ADMIN_TOKEN
from numberpool.core.context import MAX_HOLD_MINUTES, Settings
from numberpool.core.resources import DEV_ACCESS_KEY, DEV_RESOURCE, ResourceSpec
from numberpool.store.postgres_options import postgres_options

DEFAULT_PORT = 8443
DEFAULT_DATA_DIR = Path(".numberpool")
DATABASE_SCHEMES = ("sqlite", "postgresql", "postgres")
MEMORY_DATABASES = ("memory", ":memory:", "sqlite://", "sqlite:///:memory:")
# Every request is answered in milliseconds, so a few seconds is plenty for those in flight.
# Without a bound, each idle keep-alive TLS client (SDKs pool connections) keeps a stopping
# server waiting for its close_notify, up to asyncio's 30 s.
DEFAULT_SHUTDOWN_TIMEOUT = 3.0


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    data_dir: Path = DEFAULT_DATA_DIR
    database: str | None = None
    tls: bool = True
    cert: Path | None = None
    key: Path | None = None
    hold_minutes: float = MAX_HOLD_MINUTES
    operation_latency: float = 0.0
    inventory_size: int = 1000
    sweep_seconds: float = 30.0
    workers: int = 1
    pool_size: int = 10
    shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT
    """On SIGTERM: seconds in-flight requests get to finish once the server stops accepting."""
    skip_api_version_check: bool = False
    seed: int | None = None
    testing: bool = False
    """Testing mode: control endpoints under /_numberpool/ (fault rules, reset, the shared test clock)."""
    admin_token: str | None = None
    """Opens `/_numberpool/` (admin API, console, testing controls); None: those paths answer 404
    (in testing mode, the well-known development admin token is used then)."""
    entra: bool = False
    """Accept Microsoft Entra ID bearer tokens over HTTPS on the ACS routes (api/entra.py)."""
    entra_jwks: str | None = None
    """A JWK Set file or URL whose keys must have signed those tokens; None: signatures are not checked."""
    resources: list[ResourceSpec] = field(default_factory=lambda: [DEV_RESOURCE])
    log_format: str = "auto"
    """`json`, `text`, or `auto`: JSON lines unless stdout is a terminal."""
    log_level: str = "info"
    metrics_port: int | None = None
    """Serve `/metrics` on this port instead of the service's."""
    catalog: Path | None = None
    """A catalog file imported at start (`serve --catalog`), after any demo seeding."""
    keys_secret_file: Path | None = None
    """Seals the access keys in the database (server/keys_secret.py); default <data-dir>/keys.secret."""

    def database_url(self) -> str:
        if self.database:
            return self.database
        return str(self.data_dir / "numberpool.db")

    @property
    def public_host(self) -> str:
        """The host clients should use: a wildcard bind address is reached at 127.0.0.1."""
        return "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host

    def endpoint(self) -> str:
        scheme = "https" if self.tls else "http"
        host = f"[{self.public_host}]" if ":" in self.public_host else self.public_host
        return f"{scheme}://{host}:{self.port}/"

    def connection_string(self, key: str = DEV_ACCESS_KEY) -> str:
        return f"endpoint={self.endpoint()};accesskey={key}"

    def effective_admin_token(self) -> str | None:
        """The admin token in force: the one given, else in testing mode the development one."""
        if self.admin_token:
            return self.admin_token
        return DEV_ADMIN_TOKEN if self.testing else None

    def settings(self) -> Settings:
        return Settings(hold_minutes=self.hold_minutes, operation_latency=self.operation_latency, seed=self.seed)

    def to_json(self) -> str:
        """The config as JSON, for worker processes."""
        data = asdict(self)
        for name in ("data_dir", "cert", "key", "catalog", "keys_secret_file"):
            data[name] = str(data[name]) if data[name] is not None else None
        data["resources"] = [{"id": r.id, "keys": list(r.keys)} for r in self.resources]
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> ServerConfig:
        data = json.loads(text)
        for name in ("data_dir", "cert", "key", "catalog", "keys_secret_file"):
            data[name] = Path(data[name]) if data[name] is not None else None
        data["resources"] = [ResourceSpec(r["id"], tuple(r["keys"])) for r in data["resources"]]
        return cls(**data)

    def validate(self) -> None:
        if self.pool_size < 1:
            raise ValueError("--pool-size must be at least 1")
        if not 0 <= self.shutdown_timeout < float("inf"):
            raise ValueError("--shutdown-timeout must be a number of seconds, 0 or more")
        if self.workers < 1:
            raise ValueError("--workers must be at least 1")
        if not 0 < self.hold_minutes <= MAX_HOLD_MINUTES:
            raise ValueError(f"--hold-minutes must be more than 0 and at most {MAX_HOLD_MINUTES:g}")
        if self.operation_latency < 0:
            raise ValueError("--operation-latency must not be negative")
        if not 0 < self.sweep_seconds < float("inf"):
            raise ValueError("--sweep-seconds must be more than 0")
        if self.metrics_port is not None and not 0 < self.metrics_port < 65536:
            raise ValueError("--metrics-port must be a port number (1-65535)")
        if self.metrics_port is not None and self.metrics_port == self.port:
            raise ValueError("--metrics-port must differ from --port")
        if self.inventory_size < 0:
            raise ValueError("--inventory-size must not be negative")
        if (self.cert is None) != (self.key is None):
            raise ValueError("--cert and --key go together")
        scheme = self.database_url().split("://", 1)[0] if "://" in self.database_url() else "sqlite"
        if scheme not in DATABASE_SCHEMES:
            raise ValueError(
                f"unsupported database URL scheme {scheme!r}: use a SQLite file path, 'memory' or postgresql://"
            )
        if scheme in ("postgresql", "postgres"):
            postgres_options(self.database_url())  # its own query parameters: a bad one is named now
        if self.workers > 1 and self.database_url() in MEMORY_DATABASES:
            raise ValueError("an in-memory database lives in one process: use a file or PostgreSQL with --workers")
        ids = [r.id for r in self.resources]
        if len(ids) != len(set(ids)):
            raise ValueError("resource ids must be unique")
        if self.entra_jwks:
            from numberpool.api.entra import KeySet

            KeySet(self.entra_jwks).check()  # a file read, or a URL fetched: one-line error naming it


def load_file(path: Path, config: ServerConfig) -> None:
    """Apply a TOML config file: `[[resources]]` tables with `id` and `keys`."""
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    for entry in data.get("resources", []):
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            raise ValueError(f"{path}: each [[resources]] needs an id")
        keys = entry.get("keys", [])
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise ValueError(f"{path}: resource {entry['id']!r}: keys must be a list of strings")
        spec = ResourceSpec(entry["id"], tuple(keys))
        spec.to_resource()
        config.resources.append(spec)
