"""Applying Alembic migrations programmatically (`python -m gateway migrate`)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

from gateway.db import make_engine, make_sessionmaker
from gateway.models import Tenant
from gateway.settings import GatewaySettings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(settings: GatewaySettings, revision: str = "head") -> None:
    """Bring the schema to `revision` and make sure the default tenant exists."""
    if settings.async_database_url.startswith("sqlite"):
        database = settings.async_database_url.split("///", 1)[-1]
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(settings.async_database_url), revision)
    asyncio.run(ensure_tenant(settings.async_database_url, settings.default_tenant_id))


async def ensure_tenant(database_url: str, tenant_id: str) -> None:
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            if await session.get(Tenant, tenant_id) is None:
                session.add(Tenant(id=tenant_id, name=tenant_id.title(), settings={}))
                await session.commit()
    finally:
        await engine.dispose()
