"""Applying Alembic migrations programmatically (`python -m gateway migrate`)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlmodel.ext.asyncio.session import AsyncSession

from gateway.db import make_engine, make_sessionmaker
from gateway.models import Tenant
from gateway.services.api_keys import ensure_managed_keys
from gateway.services.prompts import make_stored_system_prompts_plain
from gateway.services.tenants import new_callback_secret
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
    if revision == "head":
        asyncio.run(_seed(settings))


async def _seed(settings: GatewaySettings) -> None:
    """The default tenant, the environment's tokens as its keys, and stored settings brought up to today's checks."""
    engine = make_engine(settings.async_database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            await ensure_tenant(session, settings.default_tenant_id)
            await ensure_managed_keys(session, settings)
            await make_stored_system_prompts_plain(session)
    finally:
        await engine.dispose()


async def ensure_tenant(session: AsyncSession, tenant_id: str) -> None:
    if await session.get(Tenant, tenant_id) is None:
        session.add(Tenant(id=tenant_id, name=tenant_id.title(), settings={}, callback_secret=new_callback_secret()))
        await session.commit()
