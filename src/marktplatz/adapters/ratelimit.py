"""Rate limits with the `limits` library (moving window, in memory or in Redis)."""

from __future__ import annotations

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter


class LimitsRateLimiter:
    """Counts hits per key; hit() is False once the window is full.

    `storage_uri` "memory://" counts in this process; "redis://…" for all workers (one short
    blocking round trip per call: these limits guard logins, coupon saves and guesses, not hot
    paths).
    """

    def __init__(self, rule: str, storage_uri: str = "memory://") -> None:
        self.item = parse(rule)
        self.limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))

    def hit(self, key: str) -> bool:
        return self.limiter.hit(self.item, key)

    def allows(self, key: str) -> bool:
        """Whether a hit would still be allowed, without counting one."""
        return self.limiter.test(self.item, key)

    def clear(self, key: str) -> None:
        self.limiter.clear(self.item, key)
