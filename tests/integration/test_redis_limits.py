"""Rate limits shared by every worker through a real Redis (logins, coupon saves and guesses)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import redis

from marktplatz.adapters.ratelimit import LimitsRateLimiter
from marktplatz.bootstrap import build
from marktplatz.settings import Settings

REDIS_URL = os.environ.get("MARKTPLATZ_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def key() -> Iterator[str]:
    """Fail in CI, skip elsewhere, when Redis does not answer; a key of this test only."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except (redis.exceptions.ConnectionError, OSError) as exc:
        reason = f"Redis is not running at {REDIS_URL}: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    yield f"test-{uuid.uuid4().hex}"
    client.close()


def test_two_workers_share_one_window(key: str) -> None:
    # given two workers, each with its own limiter on the same Redis
    first = LimitsRateLimiter("3/minute", REDIS_URL)
    second = LimitsRateLimiter("3/minute", REDIS_URL)
    # when the first counts two hits and the second one
    hits = [first.hit(key), first.hit(key), second.hit(key)]
    # then both see the window full
    assert hits == [True, True, True]
    assert (first.allows(key), second.allows(key)) == (False, False)
    assert second.hit(key) is False
    # and clearing it in one clears it for both
    first.clear(key)
    assert second.allows(key) is True


async def test_the_app_counts_in_redis_when_it_is_configured(key: str, tmp_path: object) -> None:
    # given two workers' apps built with the same Redis
    settings = Settings(redis_url=REDIS_URL, var_dir=str(tmp_path), environment="test")
    apps = [build(settings), build(settings)]
    one, two = apps[0].ctx, apps[1].ctx
    try:
        # when a cashier guesses ten unknown codes at the first worker
        for _ in range(10):
            assert one.guess_limiter.hit(key) is True
        # then the second worker refuses the eleventh
        assert two.guess_limiter.allows(key) is False
    finally:
        one.guess_limiter.clear(key)
        for app in apps:
            await app.close()
