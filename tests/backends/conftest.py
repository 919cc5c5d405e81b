from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.redis_server import RedisProcess, start_redis


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisProcess]:
    """A real redis-server per test module (a module may stop and restart it)."""
    server = start_redis()
    try:
        yield server
    finally:
        server.stop()
