"""Values kept under the version (or epoch) they were made at, for the site's per-process caches.

A value is served only for the version it was kept under and for ``max_age`` seconds;
past ``size`` entries the least recently used go first. The token cache keeps verified
tokens and users' roles in one, under the auth epoch; the document cache keeps
documents, under their doctype's version.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


class VersionedLRU:
    """key -> (value, version, time kept); thread-safe (reads take no lock)."""

    def __init__(self, size: int, max_age: float, clock: Callable[[], float] = time.monotonic):
        self.size = size
        self.max_age = max_age
        self.clock = clock
        self._entries: OrderedDict[Hashable, tuple[Any, Hashable, float]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, version: Hashable) -> Any:
        """The value kept under ``key`` for ``version`` and not too old, else None."""
        entry = self._entries.get(key)
        if entry is None or entry[1] != version or self.clock() - entry[2] > self.max_age:
            return None
        try:
            self._entries.move_to_end(key)
        except KeyError:  # dropped by another thread meanwhile
            pass
        return entry[0]

    def put(self, key: Hashable, version: Hashable, value: Any) -> None:
        with self._lock:
            self._entries[key] = (value, version, self.clock())
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
