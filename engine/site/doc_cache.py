"""A per-process cache of loaded documents, kept honest by doctype versions in Redis.

Reading a document by ID (``session.get_doc`` outside a write: the REST API's GET,
the form) costs a pool checkout, one wide statement and its rows. With a Redis
(``DOCFRAME_REDIS_URL``), each process keeps the documents it loaded, each under the
*version* its doctype had in Redis when the read began, and serves one again only
while that version is still the current one. A read asks Redis for the version
(one MGET) instead of asking the database for the document.

Every commit that writes a doctype gives it a new version right after the commit
and before the write returns to its caller (:meth:`DocVersions.bump`), so once a
save, rename or delete has returned, no process serves the old document. What a
commit wrote is seen from its statements (:mod:`engine.storage.writes`): a hook's
own SQL counts, a child table's rows count for their parents, DDL and SQL text
count for every doctype.

Why the version is read before the database: a commit between the two has set a
new version after it, so an entry made from the older rows is never matched again.
Random versions rather than counters: this Redis keeps nothing on disk, and a
counter starting again from 0 would make old entries good again.

What is not seen: a change made by hand in SQL on another connection, or a commit
whose new version could not be stored (Redis unreachable; logged). Entries
therefore also expire after ``max_age`` seconds. Without Redis, or while it cannot
be reached, every read goes to the database, as before.
"""

from __future__ import annotations

import copy
import logging
import os
import secrets
import time
from collections.abc import Callable, Hashable, Iterable
from typing import Any

from engine.site.versioned_lru import VersionedLRU

log = logging.getLogger(__name__)

ANY = "*"  # the version every doctype's version includes: bumped by a commit that may have written anything
Rows = dict[str, list[dict[str, Any]]]


class DocVersions:
    """A version per doctype in Redis; a doctype's current version is the pair (its key, the ANY key).

    Read on every cached read and set on every commit, so both skip redis-py's pool and
    retry machinery: a packed MGET or MSET on a connection of the process's own idle
    list (half the client time of ``Redis.mget``).
    """

    def __init__(self, url: str, prefix: str, timeout: float = 0.5):
        import redis

        self.prefix = prefix
        self._redis = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout,
                                           client_name=prefix.replace(":", "-"))  # named in CLIENT LIST
        self._errors: tuple[type[BaseException], ...] = (redis.exceptions.RedisError, OSError)
        # Connections not in use (list.pop and append need no lock); as many as ran at once.
        self._idle: list[Any] = []
        self._pid = os.getpid()  # a forked worker opens its own
        self._mget: dict[str, Any] = {}  # doctype -> its packed MGET
        self._packer = self._new_connection()  # packs commands; never connected

    def key(self, doctype: str) -> str:
        return f"{self.prefix}:{doctype}"

    def current(self, doctype: str) -> tuple[bytes, bytes] | None:
        """The doctype's version now; None when Redis cannot say (then nothing may be served or kept)."""
        packed = self._mget.get(doctype)
        if packed is None:
            packed = self._mget[doctype] = self._packer.pack_command("MGET", self.key(doctype), self.key(ANY))
        try:
            own, every = self._ask(packed)
            if own is None or every is None:  # first use, or Redis started afresh
                for key in (self.key(doctype), self.key(ANY)):
                    self._redis.set(key, secrets.token_hex(8), nx=True)
                own, every = self._ask(packed)
        except self._errors as exc:
            log.debug("document cache skipped: %s", exc)
            return None
        if own is None or every is None:
            return None
        return own, every

    def bump(self, doctypes: Iterable[str]) -> None:
        """Give each doctype a new version: one MSET, one round trip, on every commit that wrote."""
        args: list[str] = []
        for doctype in doctypes:
            args += (self.key(doctype), secrets.token_hex(8))
        if not args:
            return
        try:
            self._ask(self._packer.pack_command("MSET", *args))
        except self._errors as exc:
            log.warning("could not end the cached documents of %s (Redis: %s); they expire on their own",
                        ", ".join(sorted(doctypes)), exc)

    def _ask(self, packed: Any) -> Any:
        """Send one packed command on an idle connection of this process and read its answer."""
        if self._pid != os.getpid():
            self._idle, self._pid = [], os.getpid()
        try:
            conn = self._idle.pop()
        except IndexError:
            conn = self._new_connection()
        try:
            conn.send_packed_command(packed, check_health=False)
            answer = conn.read_response()
        except BaseException:
            conn.disconnect()  # its state is unknown: never reused
            raise
        self._idle.append(conn)
        return answer

    def _new_connection(self) -> Any:
        """A connection made as the client's pool would make it (connects on first use)."""
        pool = self._redis.connection_pool
        return pool.connection_class(**pool.connection_kwargs)

    def close(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.disconnect()
        self._redis.close()


class DocumentCache:
    """(doctype, ID) -> the document's row and child rows, under the version they were read at.

    Look up and remember with the version read *before* the database. What it hands
    out and what it keeps are copies (only dicts and lists are copied: the other
    values are immutable), so a caller may change the document it was given.
    """

    def __init__(self, versions: DocVersions | None, size: int = 4096, max_age: float = 60.0,
                 clock: Callable[[], float] = time.monotonic):
        self.versions = versions
        self.size = size
        self._docs = VersionedLRU(size, max_age, clock)  # (doctype, ID) -> (row, child rows)

    @property
    def enabled(self) -> bool:
        return self.versions is not None and self.size > 0

    def version(self, doctype: str) -> Hashable | None:
        """The version to read ``doctype`` under now; None: read the database and keep nothing."""
        return self.versions.current(doctype) if self.enabled else None  # type: ignore[union-attr]

    def get(self, doctype: str, name: str, version: Hashable) -> tuple[dict[str, Any], Rows] | None:
        entry = self._docs.get((doctype, name), version)
        if entry is None:
            return None
        return _copied_doc(*entry)

    def put(self, doctype: str, name: str, version: Hashable, data: dict[str, Any], children: Rows) -> None:
        self._docs.put((doctype, name), version, _copied_doc(data, children))

    def committed(self, doctypes: frozenset[str]) -> None:
        """Commit listener (see ``Store.commit_listeners``): every written doctype gets a new version."""
        if self.versions is not None:
            self.versions.bump(doctypes)

    def close(self) -> None:
        self._docs.clear()
        if self.versions is not None:
            self.versions.close()


def _copied_doc(data: dict[str, Any], children: Rows) -> tuple[dict[str, Any], Rows]:
    return _copied(data), {field: [_copied(row) for row in rows] for field, rows in children.items()}


def _copied(values: dict[str, Any]) -> dict[str, Any]:
    out = dict(values)
    for key, value in values.items():
        if isinstance(value, (dict, list)):
            out[key] = copy.deepcopy(value)
    return out


def make_doc_cache(url: str | None, site_key: str, **kwargs: Any) -> DocumentCache:
    """A cache whose versions live in the Redis at ``url``; with no URL, one that keeps nothing."""
    return DocumentCache(DocVersions(url, f"docframe:{site_key}:doc-version") if url else None, **kwargs)
