"""The development certificate authority and server certificate.

Generated once per data directory with `trustme` (which builds on `cryptography`)
and reused on later starts, so a client told to trust `ca.pem` keeps trusting it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import trustme

SERVER_NAMES = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class TlsFiles:
    ca: Path | None
    cert: Path
    key: Path


def development_tls(data_dir: Path, extra_names: tuple[str, ...] = ()) -> TlsFiles:
    """The CA and a server certificate under `<data_dir>/tls/`, created on first use.

    The CA is kept across restarts; the server certificate is issued again only
    when the names it must cover change.
    """
    folder = data_dir / "tls"
    ca_path, ca_key_path = folder / "ca.pem", folder / "ca-key.pem"
    cert_path, key_path, names_path = folder / "server.pem", folder / "server-key.pem", folder / "names.txt"
    names = tuple(dict.fromkeys((*SERVER_NAMES, *extra_names)))
    if ca_path.exists() and ca_key_path.exists():
        if cert_path.exists() and key_path.exists() and _read_names(names_path) == names:
            return TlsFiles(ca_path, cert_path, key_path)
        ca = trustme.CA.from_pem(ca_path.read_bytes(), ca_key_path.read_bytes())
    else:
        folder.mkdir(parents=True, exist_ok=True)
        ca = trustme.CA(organization_name="numberpool development CA")
        _write(ca_key_path, ca.private_key_pem.bytes(), private=True)
        _write(ca_path, ca.cert_pem.bytes())
    server = ca.issue_cert(*names)
    _write(cert_path, b"".join(blob.bytes() for blob in server.cert_chain_pems))
    _write(key_path, server.private_key_pem.bytes(), private=True)
    _write(names_path, "\n".join(names).encode())
    return TlsFiles(ca_path, cert_path, key_path)


def _read_names(path: Path) -> tuple[str, ...]:
    return tuple(path.read_text().split("\n")) if path.exists() else ()


def _write(path: Path, data: bytes, private: bool = False) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    if private:
        tmp.chmod(0o600)
    tmp.replace(path)
