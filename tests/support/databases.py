"""The test servers' addresses: Redis databases of TEST_REDIS_URL, fresh PostgreSQL databases."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg
import pytest

REDIS_BASE = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def redis_url(db: int) -> str:
    """A database of the test Redis; the numbers are assigned in tests/support/redis_dbs.py."""
    return f"{REDIS_BASE}/{db}"


@contextmanager
def fresh_postgres_database(prefix: str = "parley_test") -> Iterator[str]:
    """A new PostgreSQL database, dropped afterwards; fails (never skips) in CI when PostgreSQL is absent."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"

    async def admin(sql: str) -> None:
        connection = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    try:
        asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        message = f"PostgreSQL is not available at {POSTGRES_ADMIN_URL}: {exc}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
