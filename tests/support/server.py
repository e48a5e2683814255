"""Run a real `numberpool serve` process for tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from numberpool.testing.server import READY, ReadyLine  # noqa: F401  READY: the ready line, for tests
# Servers of one test that share a database must share the secret that seals its access keys
# (server/keys_secret.py); each has its own data directory, so the tests give them this one.
TEST_KEYS_SECRET = "bnVtYmVycG9vbC10ZXN0LWtleXMtc2VjcmV0LTMyYnk="


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """`python -m numberpool serve` on a free port, stopped by `stop()`."""

    def __init__(
        self, data_dir: Path, *args: str, tls: bool = True, port: int | None = None, engine: str = "sqlite",
        env: dict[str, str | None] | None = None,
    ) -> None:
        """`engine="postgres"` gives the server a fresh PostgreSQL database unless `args` name one.

        `env`: environment variables to set, or to remove (None), over the test's own.
        """
        self.env = {"NUMBERPOOL_KEYS_SECRET": TEST_KEYS_SECRET, **(env or {})}
        self.data_dir = data_dir
        self.engine = engine
        self._own_database: str | None = None
        self.port = port or free_port()
        self._port_chosen_here = port is None
        self.tls = tls
        self.args = args
        self.output: list[str] = []
        self.connection_string = ""
        self._process: subprocess.Popen[str] | None = None

    @property
    def endpoint(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def ca(self) -> Path:
        return self.data_dir / "tls" / "ca.pem"

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    @property
    def returncode(self) -> int | None:
        """The exit status once stopped: minus the signal number if a signal ended it."""
        return self._process.returncode if self._process else None

    def start(self, timeout: float = 60.0) -> ServerProcess:
        if self.engine == "postgres" and "--database" not in self.args and self._own_database is None:
            from tests.support import postgres

            self._own_database = postgres.create_database()
        for attempt in range(3):
            try:
                return self._launch(timeout)
            except RuntimeError:
                # Another test process (pytest-xdist worker) took the free port between its pick and
                # the bind: pick another, when the port was ours to pick.
                taken = any("address already in use" in line.lower() for line in self.output)
                if not (taken and self._port_chosen_here and attempt < 2):
                    raise
                self.port = free_port()
                self.output.clear()
        raise AssertionError("unreachable")

    def _launch(self, timeout: float) -> ServerProcess:
        command = [sys.executable, "-m", "numberpool", "serve", "--port", str(self.port),
                   "--data-dir", str(self.data_dir), *self.args]
        if self._own_database is not None:
            command += ["--database", self._own_database]
        if not self.tls:
            command.append("--no-tls")
        environment = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        environment = {name: value for name, value in environment.items() if value is not None}
        self._process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environment
        )
        ready = ReadyLine(self._process, self.output)
        if not ready.wait(time.monotonic() + timeout):
            self.stop()
            raise RuntimeError("numberpool did not start:\n" + "\n".join(self.output))
        if not ready.connection_string:
            self._process.wait(10)
            raise RuntimeError("numberpool exited:\n" + "\n".join(self.output))
        self.connection_string = ready.connection_string
        return self

    def stop(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._drop_database()

    def _drop_database(self) -> None:
        if self._own_database:
            from tests.support import postgres

            postgres.drop_database(self._own_database)
            self._own_database = None

    def kill(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.kill()
            self._process.wait()
