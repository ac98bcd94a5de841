"""An in-process cache of resolved /q/<code> links with a short time to live."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

# Long enough that a busy code costs one database read per TTL instead of one per scan; short
# enough that other worker processes, which this process cannot tell, follow a changed target
# or a switched-off code within seconds. This process itself forgets a code the moment it changes.
TTL_SECONDS = 5.0
MAX_ENTRIES = 10_000  # bounded memory; only codes that exist are ever put in


class InMemoryCodeCache:
    """code → (target, active) with a time to live; safe to share between tasks and threads.

    No method awaits, so asyncio tasks never see a half-done change; the lock covers threads.
    """

    def __init__(
        self,
        ttl: float = TTL_SECONDS,
        max_entries: int = MAX_ENTRIES,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl
        self._max = max_entries
        self._now = monotonic
        self._entries: dict[str, tuple[float, tuple[str, bool]]] = {}
        self._version = 0
        self._lock = threading.Lock()

    def get(self, code: str) -> tuple[str, bool] | None:
        found = self._entries.get(code)
        if found is None:
            return None
        expires, link = found
        if expires <= self._now():
            with self._lock:
                if self._entries.get(code) is found:
                    del self._entries[code]
            return None
        return link

    def version(self) -> int:
        return self._version

    def put(self, code: str, link: tuple[str, bool], version: int) -> None:
        with self._lock:
            if version != self._version:
                return  # a change happened while this link was looked up: it may be stale
            self._entries.pop(code, None)
            if len(self._entries) >= self._max:
                del self._entries[next(iter(self._entries))]  # the longest-held entry
            self._entries[code] = (self._now() + self._ttl, link)

    def forget(self, code: str) -> None:
        with self._lock:
            self._version += 1
            self._entries.pop(code, None)
