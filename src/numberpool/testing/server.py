"""`NumberpoolServer`: `numberpool serve --testing` in a subprocess, and its control endpoints.

Standard library only (subprocess, urllib, ssl): the SDK is imported by `client()` alone.
"""

from __future__ import annotations

import collections
import json
import os
import shlex
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

READY = "numberpool: ready. Connection string: "
DEV_ADMIN_TOKEN = "numberpool-development-admin-token"  # numberpool.api.admin_auth's, not imported (cost)
# Demo numbers per area code: 3,900 in all, seeded in about a second, where the server's own
# default (1000 per area code) takes ten or more; None: the server's default.
DEFAULT_INVENTORY_SIZE = 100
TRUST_VARIABLES = ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS")


class TrustStack:
    """Which running server's CA bundle the trust variables (`TRUST_VARIABLES`) name.

    Servers start and stop in any order (a module's server and a test's own overlap), so the
    first `push` records the environment's original values, and each `pop` applies the newest
    server still trusted, or restores the originals when none is left. (Restoring "the values
    before me" instead brought back a stopped server's bundle.) A variable someone else set
    while servers ran (a test session trusting its own CA, say) is theirs: it becomes the value
    to restore, and no `pop` overwrites it.
    """

    def __init__(self, environ: Any = None) -> None:
        self._environ = os.environ if environ is None else environ
        self._entries: list[tuple[object, dict[str, str]]] = []
        self._original: dict[str, str | None] = {}
        self._applied: dict[str, str] = {}  # what the stack last wrote, for the variables it still owns

    def push(self, owner: object, values: dict[str, str]) -> None:
        self._adopt_outside_changes()
        for name in values:
            if name not in self._applied:  # not ours yet: what to restore at the end
                self._original[name] = self._environ.get(name)
        self._entries = [entry for entry in self._entries if entry[0] is not owner]
        self._entries.append((owner, values))
        self._apply(values)

    def outside(self, name: str) -> str | None:
        """`name`'s value apart from the servers (what the process trusts without numberpool)."""
        self._adopt_outside_changes()
        return self._original.get(name) if name in self._applied else self._environ.get(name)

    def pop(self, owner: object) -> None:
        before = len(self._entries)
        self._entries = [entry for entry in self._entries if entry[0] is not owner]
        if len(self._entries) == before:
            return  # never trusted, or already untrusted
        self._adopt_outside_changes()
        if self._entries:
            newest = self._entries[-1][1]
            self._apply({name: value for name, value in newest.items() if name in self._applied})
            return
        for name in list(self._applied):
            value = self._original.pop(name, None)
            if value is None:
                self._environ.pop(name, None)
            else:
                self._environ[name] = value
        self._applied.clear()
        self._original.clear()

    def _adopt_outside_changes(self) -> None:
        for name, value in list(self._applied.items()):
            if self._environ.get(name) != value:
                del self._applied[name]  # someone else's now: left alone
                self._original.pop(name, None)

    def _apply(self, values: dict[str, str]) -> None:
        for name, value in values.items():
            self._environ[name] = self._applied[name] = value


_TRUST = TrustStack()


class ReadyLine:
    """Follows a starting server's output (stdout and stderr merged) on a daemon thread.

    Every line is appended to `output`, for error messages; `connection_string` is set from the
    ready line the server prints once it serves.
    """

    def __init__(self, process: subprocess.Popen[str], output: list[str]) -> None:
        self.connection_string = ""
        self._done = threading.Event()
        self._process = process
        self._output = output
        threading.Thread(target=self._pump, name="numberpool-output", daemon=True).start()

    def _pump(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self._output.append(line.rstrip("\n"))
            if line.startswith(READY):
                self.connection_string = line[len(READY):].strip()
                self._done.set()
        self._done.set()

    def wait(self, deadline: float) -> bool:
        """True once the ready line came or the process ended (then `connection_string` is empty);
        False when the monotonic `deadline` passed first."""
        return self._done.wait(max(0.0, deadline - time.monotonic()))


class NumberpoolError(RuntimeError):
    """The server did not start, or a control endpoint refused a request (its ACS error in the message)."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Faults:
    """The server's fault rules (`/_numberpool/faults`)."""

    def __init__(self, server: NumberpoolServer) -> None:
        self._server = server

    def add(self, *rules: dict[str, Any]) -> list[dict[str, Any]]:
        """Append rules after those in place; returns every rule, with ids and hits."""
        return self._server.control("PATCH", "/_numberpool/faults", {"rules": list(rules)})["rules"]

    def replace(self, *rules: dict[str, Any]) -> list[dict[str, Any]]:
        return self._server.control("POST", "/_numberpool/faults", {"rules": list(rules)})["rules"]

    def clear(self) -> None:
        self._server.control("DELETE", "/_numberpool/faults")

    def list(self) -> list[dict[str, Any]]:
        """Every rule with its `id`, `hits` and, for a rule with `times`, `remaining`."""
        return self._server.control("GET", "/_numberpool/faults")["rules"]


class TestClock:
    """The service clock shared by every process of the server (`/_numberpool/clock`)."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    def __init__(self, server: NumberpoolServer) -> None:
        self._server = server

    def advance(self, seconds: float) -> float:
        """Move the service's time forward; returns the total offset in seconds."""
        return float(self._server.control("POST", "/_numberpool/clock", {"advanceSeconds": seconds})["offsetSeconds"])

    def now(self) -> str:
        return str(self._server.control("GET", "/_numberpool/clock")["now"])

    @property
    def offset(self) -> float:
        return float(self._server.control("GET", "/_numberpool/clock")["offsetSeconds"])


class NumberpoolServer:
    """A numberpool in testing mode on a free port, with TLS and (by default) an in-memory database.

    ```
    with NumberpoolServer() as numberpool:
        client = numberpool.client()
        numberpool.faults.add({"operation": "PurchasePhoneNumbers",
                               "effect": {"operationFailure": {"code": "PurchaseFailed"}}})
    ```

    `database`: "memory" or a SQLite path or postgresql:// URL. `binary`: the `numberpool` command
    to run (default: this Python's numberpool). `inventory_size`: demo numbers per area code seeded
    into an empty database (default 100; None: the server's 1000). `args`: more `serve` flags. `trust`: make the
    development CA trusted by the SDKs in this process (and Node.js processes it starts) while
    the server runs, through REQUESTS_CA_BUNDLE, SSL_CERT_FILE and NODE_EXTRA_CA_CERTS.
    """

    def __init__(
        self,
        *,
        database: str = "memory",
        binary: str | None = None,
        args: tuple[str, ...] | list[str] = (),
        admin_token: str = DEV_ADMIN_TOKEN,
        inventory_size: int | None = DEFAULT_INVENTORY_SIZE,
        data_dir: str | Path | None = None,
        trust: bool = True,
        startup_timeout: float = 120.0,
    ) -> None:
        self.database = database
        self.binary = binary
        self.args = tuple(args)
        self.admin_token = admin_token
        self.inventory_size = inventory_size
        self.trust = trust
        self.startup_timeout = startup_timeout
        self._own_data_dir = data_dir is None
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self.port = 0
        self.connection_string = ""
        self.output: collections.deque[str] = collections.deque(maxlen=200)
        self._process: subprocess.Popen[str] | None = None
        self._bundle: Path | None = None
        self._ssl: ssl.SSLContext | None = None
        self.faults = Faults(self)
        self.clock = TestClock(self)

    # --- addresses ---------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        return f"https://127.0.0.1:{self.port}/"

    @property
    def ca_path(self) -> Path:
        assert self.data_dir is not None, "the server has not started"
        return self.data_dir / "tls" / "ca.pem"

    # --- lifecycle ---------------------------------------------------------------------

    def _command(self) -> list[str]:
        command = shlex.split(self.binary) if self.binary else [sys.executable, "-m", "numberpool"]
        if self.binary and shutil.which(command[0]) is None and not Path(command[0]).is_file():
            raise NumberpoolError(f"--numberpool-binary: {command[0]} is not an executable file or command")
        return [*command, "serve", "--testing", "--entra", "--host", "127.0.0.1", "--port", str(self.port),
                "--data-dir", str(self.data_dir), "--database", self.database,
                *(("--admin-token", self.admin_token) if self.admin_token != DEV_ADMIN_TOKEN else ()),
                *(("--inventory-size", str(self.inventory_size)) if self.inventory_size is not None else ()),
                *self.args]

    def start(self) -> NumberpoolServer:
        if self._process is not None:
            return self
        if self.data_dir is None:
            self.data_dir = Path(tempfile.mkdtemp(prefix="numberpool-"))
        self.port = _free_port()
        self._process = subprocess.Popen(
            self._command(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        deadline = time.monotonic() + self.startup_timeout
        ready = ReadyLine(self._process, self.output)
        if not ready.wait(deadline):
            self.stop()
            raise NumberpoolError("numberpool did not start in time:\n" + "\n".join(self.output))
        if not ready.connection_string:
            self.stop()
            raise NumberpoolError("numberpool exited before it was ready:\n" + "\n".join(self.output))
        self.connection_string = ready.connection_string
        self._wait_listening(deadline)
        self._ssl = ssl.create_default_context(cafile=str(self.ca_path))
        if self.trust:
            self._trust()
        return self

    def _wait_listening(self, deadline: float) -> None:
        """With --workers the ready line comes when the socket is bound, before the workers listen."""
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline or (self._process is not None and self._process.poll() is not None):
                    self.stop()
                    raise NumberpoolError("numberpool is not listening:\n" + "\n".join(self.output)) from None
                time.sleep(0.05)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._untrust()
        if self._own_data_dir and self.data_dir is not None:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self.data_dir = None

    def __enter__(self) -> NumberpoolServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def _trust(self) -> None:
        """A bundle of the usual CAs plus the development one, for this process's HTTPS clients."""
        assert self.data_dir is not None
        parts = [self.ca_path.read_text()]
        # What the process trusted before (a company proxy's CA, say), so its other HTTPS clients
        # (pip in a subprocess, say) keep working; else requests' own list, certifi.
        outside = [_TRUST.outside(name) for name in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")]
        files = [Path(path) for path in dict.fromkeys(outside) if path and Path(path).is_file()]
        if not files:
            try:
                import certifi  # requests' own CA list: a requirement of the Azure SDK's transport

                files.append(Path(certifi.where()))
            except ImportError:
                pass
        parts.extend(file.read_text() for file in files)
        self._bundle = self.data_dir / "trusted-bundle.pem"
        self._bundle.write_text("\n".join(parts))
        _TRUST.push(self, {"REQUESTS_CA_BUNDLE": str(self._bundle), "SSL_CERT_FILE": str(self._bundle),
                           "NODE_EXTRA_CA_CERTS": str(self.ca_path)})

    def _untrust(self) -> None:
        _TRUST.pop(self)

    # --- control -----------------------------------------------------------------------

    def control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """Call a control endpoint with the admin token; its JSON answer (None for 204)."""
        if self._process is None:
            raise NumberpoolError("the numberpool server is not running")
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.endpoint.rstrip("/") + path, data=data, method=method,
            headers={"Authorization": f"Bearer {self.admin_token}",
                     **({"Content-Type": "application/json"} if data is not None else {})},
        )
        try:
            with urllib.request.urlopen(request, context=self._ssl, timeout=30) as response:
                raw = response.read()
        except urllib.error.HTTPError as error:
            detail = error.read().decode("utf-8", "replace")
            raise NumberpoolError(f"{method} {path}: {error.code} {detail}") from None
        except (urllib.error.URLError, OSError) as error:
            raise NumberpoolError(f"{method} {path}: the numberpool server did not answer ({error})") from None
        return json.loads(raw) if raw else None

    def reset(self, resource: str | None = None) -> None:
        """Drop every hold, reservation, purchase, operation, search and fault rule; the clock back to now."""
        self.control("POST", "/_numberpool/reset", None if resource is None else {"resource": resource})

    def token(self, resource: str | None = None) -> str:
        """A Microsoft Entra ID bearer token the server accepts, valid from the service's now (the test clock)."""
        from numberpool.tokens import development_token

        return development_token(resource, now=time.time() + self.clock.offset)

    def client(self, **kwargs: Any) -> Any:
        """A ready `PhoneNumbersClient` (azure-communication-phonenumbers) for the development resource."""
        try:
            from azure.communication.phonenumbers import PhoneNumbersClient
        except ImportError:
            raise NumberpoolError(
                "client() needs the Azure SDK: pip install azure-communication-phonenumbers") from None
        kwargs.setdefault("connection_verify", str(self.ca_path))
        return PhoneNumbersClient.from_connection_string(self.connection_string, **kwargs)
