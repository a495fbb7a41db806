"""A per-process cache of API secrets already verified against their Argon2 hash."""

from __future__ import annotations

import hashlib
from collections import OrderedDict


class VerifiedSecrets:
    """API secrets this process has already verified against their stored argon2 hash.

    Token auth runs on every API request; an argon2 check costs about a quarter of a
    second of CPU by design. The stored hash is still read from the database on every
    request, so a revoked or replaced key (a different or empty hash) and a disabled
    user take effect at once; only the repeated hashing of the same secret is saved.
    Entries are keyed by a SHA-256 of key and secret, never the secret itself.
    """

    def __init__(self, size: int = 4096):
        self.size = size
        self._hashes: OrderedDict[bytes, str] = OrderedDict()

    @staticmethod
    def _digest(key: str, secret: str) -> bytes:
        return hashlib.sha256(f"{key}\x00{secret}".encode()).digest()

    def seen(self, key: str, secret: str, stored_hash: str) -> bool:
        return self._hashes.get(self._digest(key, secret)) == stored_hash

    def remember(self, key: str, secret: str, stored_hash: str) -> None:
        digest = self._digest(key, secret)
        self._hashes[digest] = stored_hash
        self._hashes.move_to_end(digest)
        while len(self._hashes) > self.size:
            self._hashes.popitem(last=False)
