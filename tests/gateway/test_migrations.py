"""Alembic migrations apply, roll back and re-apply on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from alembic import command
from sqlalchemy import inspect

from gateway.db import make_engine
from gateway.migrate import alembic_config, upgrade
from gateway.settings import async_database_url
from parley_testkit.stack import gateway_settings

TABLES = {
    "tenant",
    "contact",
    "conversation",
    "message",
    "task",
    "document",
    "feedback",
    "api_key",
    "prompt_version",
    "callback_delivery",
    "curated_answers",
    "products",
    "alembic_version",
}


async def _tables_and_default_tenant(url: str) -> tuple[set[str], bool]:
    engine = make_engine(async_database_url(url))
    try:
        async with engine.connect() as connection:
            tables = set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
            has_default = False
            if "tenant" in tables:
                rows = await connection.exec_driver_sql("SELECT id FROM tenant")
                has_default = "default" in {r[0] for r in rows}
        return tables, has_default
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    base: str = request.getfixturevalue("postgres_url")
    name = f"parley_mig_{uuid.uuid4().hex[:8]}"

    async def admin(sql: str) -> None:
        connection = await asyncpg.connect(base)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    yield base.rsplit("/", 1)[0] + "/" + name
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_upgrade_downgrade_upgrade(empty_database: str) -> None:
    settings = gateway_settings(database_url=empty_database, redis_url="redis://127.0.0.1:6379/14")
    upgrade(settings)
    tables, has_default = asyncio.run(_tables_and_default_tenant(empty_database))
    assert tables == TABLES and has_default
    upgrade(settings)  # idempotent: a second run changes nothing and does not fail

    command.downgrade(alembic_config(settings.async_database_url), "base")
    tables, _ = asyncio.run(_tables_and_default_tenant(empty_database))
    assert tables == {"alembic_version"}

    upgrade(settings)
    tables, has_default = asyncio.run(_tables_and_default_tenant(empty_database))
    assert tables == TABLES and has_default
