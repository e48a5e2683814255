"""Access keys sealed at rest: AES-256-GCM under the keys secret.

HMAC verification needs each key's bytes, so keys cannot be hashed like passwords; they are
encrypted instead. A sealed key is `nonce (12 bytes) || ciphertext+tag`, and the resource id and
key slot are the associated data, so a sealed key copied into another resource's row, or from
the secondary slot to the primary, does not open. What this protects and what it does not is
in docs/operators.md ("Resources and keys").
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SECRET_BYTES = 32
_NONCE_BYTES = 12
_CHECK = b"numberpool keys secret check"


class WrongSecret(ValueError):
    """A sealed value does not open with this secret (another secret sealed it, or it was altered)."""


class KeySealer:
    def __init__(self, secret: bytes) -> None:
        if len(secret) != SECRET_BYTES:
            raise ValueError(f"the keys secret must be {SECRET_BYTES} bytes, not {len(secret)}")
        self._aead = AESGCM(secret)

    def seal(self, resource_id: str, slot: str, key: bytes) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, key, _context(resource_id, slot))

    def open(self, resource_id: str, slot: str, sealed: bytes) -> bytes:
        try:
            return self._aead.decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], _context(resource_id, slot))
        except (InvalidTag, ValueError):
            raise WrongSecret(f"the {slot} key of resource {resource_id!r} does not open with this keys secret") from None

    def check_value(self) -> bytes:
        """A sealed constant stored beside the keys, to tell a wrong secret apart at start."""
        return self.seal("", "check", _CHECK)

    def matches(self, check_value: bytes) -> bool:
        try:
            return self.open("", "check", check_value) == _CHECK
        except WrongSecret:
            return False


def new_secret() -> bytes:
    return os.urandom(SECRET_BYTES)


def _context(resource_id: str, slot: str) -> bytes:
    return f"numberpool resource key\0{resource_id}\0{slot}".encode()
