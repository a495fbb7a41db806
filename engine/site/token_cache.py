"""Per-process caches of API token checks and of users' roles.

:class:`VerifiedSecrets` saves the Argon2 hashing of a secret already checked; the
stored hash is still read on every request. :class:`TokenCache` saves that read
too (and, for the permission checks, the read of the user's roles), without giving
up immediate revocation: an entry is only good while the
site's *auth epoch* in Redis is the one it was made under, and every process that
commits a change to a User or a Role (a key generated or revoked, a role given or
taken away, a user disabled, deleted or renamed) sets a new epoch right after the commit and announces it on a
Redis channel that every process follows, waiting until each has confirmed. So a
request reads no user row and no Redis value, and once a revocation has returned,
the next request in any worker reads the database again.

Without Redis (``DOCFRAME_REDIS_URL`` unset) or while it cannot be reached, every
request reads the database, as before. Entries also expire after ``max_age``
seconds, which bounds how long a change made outside docframe (SQL by hand) or
made while Redis was unreachable goes unseen.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from engine.site.versioned_lru import VersionedLRU

log = logging.getLogger(__name__)

# A commit writing these ends every entry (a User save writes its roles; Administrator has every Role).
AUTH_DOCTYPES = frozenset({"User", "Role", "*"})


def _digest(key: str, secret: str) -> bytes:
    return hashlib.sha256(f"{key}\x00{secret}".encode()).digest()


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
        self._lock = threading.Lock()

    def seen(self, key: str, secret: str, stored_hash: str) -> bool:
        return self._hashes.get(_digest(key, secret)) == stored_hash

    def remember(self, key: str, secret: str, stored_hash: str) -> None:
        digest = _digest(key, secret)
        with self._lock:
            self._hashes[digest] = stored_hash
            self._hashes.move_to_end(digest)
            while len(self._hashes) > self.size:
                self._hashes.popitem(last=False)


class RedisEpoch:
    """The site's auth epoch: a random value in Redis, replaced by :meth:`bump` and announced on a channel.

    Each process keeps the epoch in memory and a daemon thread subscribed to the
    channel replaces it the moment another process announces a new one (and
    confirms, see :meth:`bump`), so a request reads no network at all. While the
    subscription is down (Redis unreachable, or
    not yet confirmed) :meth:`current` answers None and nothing is cached; each new
    subscription starts from the epoch stored in Redis. Random rather than a counter:
    Redis here keeps nothing on disk, and a counter restarting at 0 would make entries
    of an old epoch valid again.
    """

    def __init__(self, url: str, key: str, timeout: float = 0.5, ack_timeout: float = 2.0):
        import redis

        self.key = key
        self.ack_timeout = ack_timeout
        self.channel = key + ":changed"
        self._redis = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        self._errors: tuple[type[BaseException], ...] = (redis.exceptions.RedisError, OSError)
        self._epoch: str | None = None  # None: not subscribed, nothing may be cached
        self._pid: int | None = None  # the process whose listener runs (a forked worker starts its own)
        self._closed = threading.Event()
        self._lock = threading.Lock()

    def current(self) -> str | None:
        """The epoch now; None while it cannot be followed (then nothing is cached)."""
        if self._pid != os.getpid():
            self._start()
        return self._epoch

    def bump(self) -> None:
        """A new epoch, stored and announced; returns once every following process has taken it.

        PUBLISH answers how many subscriptions got the message; each one's listener counts
        itself in ``<key>:ack:<epoch>`` after switching, and this waits (up to
        ``ack_timeout``) for all of them. So when a revocation returns, no worker accepts
        the old token any more; a worker that never confirms is named in a warning, and
        its entries still end after ``max_age``.
        """
        epoch = secrets.token_hex(8)
        if self._epoch is not None:
            self._epoch = epoch
        try:
            self._redis.set(self.key, epoch)
            receivers = int(self._redis.publish(self.channel, epoch))
            deadline = time.monotonic() + self.ack_timeout
            acks = 0
            while receivers:
                acks = int(self._redis.get(self._ack_key(epoch)) or 0)
                if acks >= receivers or time.monotonic() > deadline:
                    break
                time.sleep(0.001)
        except self._errors as exc:
            log.warning("could not end the cached API tokens (Redis: %s); they expire on their own", exc)
            return
        if acks < receivers:
            log.warning("%d of %d processes did not confirm the new auth epoch within %.1f s; their cached API "
                        "tokens expire on their own", receivers - acks, receivers, self.ack_timeout)

    def _ack_key(self, epoch: str) -> str:
        return f"{self.key}:ack:{epoch}"

    def close(self) -> None:
        self._closed.set()
        self._epoch = None
        self._redis.close()

    def _start(self) -> None:
        with self._lock:
            if self._pid == os.getpid() or self._closed.is_set():
                return
            self._pid, self._epoch = os.getpid(), None
            threading.Thread(target=self._listen, name="docframe-auth-epoch", daemon=True).start()

    def _stored(self) -> str:
        value = self._redis.get(self.key)
        if value is None:
            self._redis.set(self.key, secrets.token_hex(8), nx=True)
            value = self._redis.get(self.key)
        return value.decode() if isinstance(value, bytes) else str(value)

    def _listen(self) -> None:
        pid = os.getpid()
        while not self._closed.is_set() and self._pid == pid:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=False)
            try:
                pubsub.subscribe(self.channel)
                while not self._closed.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message is None:
                        continue
                    if message["type"] == "subscribe":
                        self._epoch = self._stored()  # from now on every change reaches us
                    elif message["type"] == "message":
                        data = message["data"]
                        self._epoch = epoch = data.decode() if isinstance(data, bytes) else str(data)
                        ack = self._redis.pipeline()
                        ack.incr(self._ack_key(epoch))
                        ack.expire(self._ack_key(epoch), 60)
                        ack.execute()
            except Exception as exc:
                self._epoch = None
                if self._closed.is_set():
                    return  # close() took the connection away
                log.warning("token cache off until Redis is back: %s", exc)
                self._closed.wait(1.0)
            finally:
                try:
                    pubsub.close()
                except Exception:
                    pass


class TokenCache:
    """API key and secret -> user ID, and other values about users, for the epoch each entry was made under.

    Look up with the epoch read *before* the database, and remember under that same
    epoch: a change committed in between has set a new epoch, so the entry made from
    the old row is never used. :meth:`get` and :meth:`put` keep values for the layers
    below (a user's roles: ``engine.storage.unit.SharedValues``) by the same rule.
    """

    def __init__(self, epoch: RedisEpoch | None, size: int = 4096, max_age: float = 60.0,
                 clock: Callable[[], float] = time.monotonic):
        self.epoch_source = epoch
        self._entries = VersionedLRU(size, max_age, clock)  # ("token", digest) -> user; layers' keys -> values

    def epoch(self) -> str | None:
        return self.epoch_source.current() if self.epoch_source is not None else None

    def user(self, key: str, secret: str, epoch: str) -> str | None:
        return self._entries.get(("token", _digest(key, secret)), epoch)  # type: ignore[no-any-return]

    def remember(self, key: str, secret: str, epoch: str, user: str) -> None:
        self._entries.put(("token", _digest(key, secret)), epoch, user)

    def get(self, key: Hashable, epoch: Hashable) -> Any:
        return self._entries.get(key, epoch)

    def put(self, key: Hashable, epoch: Hashable, value: Any) -> None:
        self._entries.put(key, epoch, value)

    def committed(self, doctypes: frozenset[str]) -> None:
        """Commit listener (see ``Store.commit_listeners``): users or roles changed -> a new epoch."""
        if doctypes & AUTH_DOCTYPES:
            self._entries.clear()
            if self.epoch_source is not None:
                self.epoch_source.bump()

    def close(self) -> None:
        if self.epoch_source is not None:
            self.epoch_source.close()


def make_token_cache(url: str | None, site_key: str, **kwargs: Any) -> TokenCache:
    """A cache sharing its epoch through the Redis at ``url``; with no URL, one that caches nothing."""
    return TokenCache(RedisEpoch(url, f"docframe:{site_key}:auth-epoch") if url else None, **kwargs)
