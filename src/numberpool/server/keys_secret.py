"""The keys secret: what seals the resources' access keys in the database (core/key_sealing.py).

From `NUMBERPOOL_KEYS_SECRET` (base64 of 32 bytes) if set; otherwise from the file
`--keys-secret-file` names, by default `<data-dir>/keys.secret`, which is created (mode 0600)
the first time. Every process on one database needs the same secret.
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path

from numberpool.core.key_sealing import SECRET_BYTES, new_secret

ENV = "NUMBERPOOL_KEYS_SECRET"
DEFAULT_FILE = "keys.secret"


def _decode(text: str, origin: str) -> bytes:
    try:
        secret = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{origin}: the keys secret is not valid base64") from None
    if len(secret) != SECRET_BYTES:
        raise ValueError(f"{origin}: the keys secret must be {SECRET_BYTES} bytes (44 base64 characters), not {len(secret)}")
    return secret


def load_keys_secret(path: Path | None, data_dir: Path) -> bytes:
    """The secret from the environment, `path`, or the data directory's file (created if absent)."""
    if os.environ.get(ENV):
        return _decode(os.environ[ENV], ENV)
    if path is not None:
        try:
            return _decode(path.read_text(encoding="ascii"), str(path))
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"{path}: cannot read the keys secret ({getattr(exc, 'strerror', None) or exc})") from None
    default = data_dir / DEFAULT_FILE
    if not default.exists():
        _create(default)
    try:
        return _decode(default.read_text(encoding="ascii"), str(default))
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{default}: cannot read the keys secret ({getattr(exc, 'strerror', None) or exc})") from None


def _create(path: Path) -> None:
    """Write a new secret whole, then link it in place: two processes starting at once keep the first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, base64.b64encode(new_secret()) + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
