"""A real PgBouncer (Debian's package) in transaction mode in front of the test PostgreSQL server.

`PgBouncer().start()` writes a throw-away configuration, runs `pgbouncer` on a free port of
127.0.0.1 and routes every database name to the test server (NUMBERPOOL_TEST_POSTGRES). Its
server pool is smaller than what the numberpool processes open, so server connections really
are shared between clients transaction by transaction. Without the `pgbouncer` binary (installed
by `make tools` / .ci/run) the test skips with the reason printed, and fails under CI.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.support import postgres
from tests.support.server import free_port

CANDIDATES = ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer")


def binary() -> str:
    found = shutil.which("pgbouncer") or next((c for c in CANDIDATES if Path(c).is_file()), None)
    if found is None:
        reason = "pgbouncer is not installed (make tools installs Debian's package)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI is set, so the PgBouncer test must run", pytrace=False)
        print(f"\nskipping the PgBouncer test: {reason}", file=sys.stderr)
        pytest.skip(reason)
    return found


class PgBouncer:
    """One pgbouncer process in transaction mode; `url(database)` is how clients reach a database through it."""

    def __init__(self, *, server_pool_size: int = 6) -> None:
        self.port = free_port()
        self.server_pool_size = server_pool_size
        self._dir = Path(tempfile.mkdtemp(prefix="numberpool-pgbouncer-"))
        self._process: subprocess.Popen[bytes] | None = None

    def url(self, database_url: str, query: str = "statement_cache_size=0") -> str:
        """`database_url` (a database of the test server) reached through PgBouncer."""
        parts = urlsplit(database_url)
        user = parts.username or "postgres"
        return f"postgresql://{user}@127.0.0.1:{self.port}{parts.path}" + (f"?{query}" if query else "")

    @property
    def log(self) -> str:
        path = self._dir / "pgbouncer.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self, timeout: float = 10.0) -> PgBouncer:
        postgres.require_postgres()
        executable = binary()
        target = urlsplit(postgres.BASE_URL)
        user = target.username or "postgres"
        config = self._dir / "pgbouncer.ini"
        config.write_text(
            "[databases]\n"
            f"* = host={target.hostname or '127.0.0.1'} port={target.port or 5432}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {self._dir / 'users.txt'}\n"
            "pool_mode = transaction\n"
            f"default_pool_size = {self.server_pool_size}\nmax_client_conn = 500\n"
            f"logfile = {self._dir / 'pgbouncer.log'}\n"
        )
        (self._dir / "users.txt").write_text(f'"{user}" ""\n')
        command = [executable, str(config)]
        if os.geteuid() == 0:  # pgbouncer refuses to run as root: it drops to the postgres user
            self._dir.chmod(0o755)
            for path in self._dir.iterdir():
                path.chmod(0o644)
            shutil.chown(self._dir, user="postgres")
            command[1:1] = ["-u", "postgres"]
        self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"pgbouncer exited: {self._process.stderr.read().decode()}\n{self.log}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"pgbouncer did not listen on {self.port}:\n{self.log}")

    def stop(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        shutil.rmtree(self._dir, ignore_errors=True)
