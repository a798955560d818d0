"""`python -m gateway tenants|keys …`: the admin API's tenant and key operations, straight on the database.

For the operator on the server (first key of a new tenant, a key lost or leaked) when no admin
key is at hand. It prints what the admin API would answer, as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel
from sqlmodel.ext.asyncio.session import AsyncSession

from gateway.api.admin_tenants import key_out, tenant_out
from gateway.auth import PARTNER_SCOPES, Scope
from gateway.db import make_engine, make_sessionmaker
from gateway.schemas import ApiKeyCreated, TenantCreated
from gateway.services import api_keys, tenants
from gateway.services.safe_http import callback_url_problem
from gateway.settings import GatewaySettings


def add_commands(sub: Any) -> None:
    tenant = sub.add_parser("tenants", help="create and list tenants").add_subparsers(dest="action", required=True)
    create = tenant.add_parser("create", help="a new tenant; prints its callback secret")
    create.add_argument("tenant_id")
    create.add_argument("--name")
    tenant.add_parser("list")

    keys = sub.add_parser("keys", help="create, list and revoke API keys").add_subparsers(dest="action", required=True)
    create_key = keys.add_parser("create", help="a new key; printed once")
    create_key.add_argument("--tenant", default=None, help="tenant id (default: the default tenant)")
    create_key.add_argument("--name", required=True)
    create_key.add_argument(
        "--scope",
        dest="scopes",
        action="append",
        required=True,
        choices=sorted(s.value for s in PARTNER_SCOPES),
        help="repeat for several scopes",
    )
    create_key.add_argument("--rate-limit", type=int, default=None, help="requests per minute")
    create_key.add_argument("--callback-url", default=None)
    list_keys = keys.add_parser("list")
    list_keys.add_argument("--tenant", default=None)
    list_keys.add_argument("--all", action="store_true", help="include revoked keys")
    revoke = keys.add_parser("revoke")
    revoke.add_argument("key_id")
    revoke.add_argument("--tenant", default=None)


def run(args: argparse.Namespace, settings: GatewaySettings) -> int:
    handler = {"tenants": _tenants, "keys": _keys}[args.command]
    return asyncio.run(_with_session(settings, lambda session: handler(args, settings, session)))


async def _with_session(settings: GatewaySettings, work: Callable[[AsyncSession], Awaitable[int]]) -> int:
    engine = make_engine(settings.async_database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            return await work(session)
    finally:
        await engine.dispose()


def _print(value: BaseModel | list[BaseModel]) -> None:
    if isinstance(value, list):
        print(json.dumps([v.model_dump(mode="json") for v in value], indent=2))
    else:
        print(value.model_dump_json(indent=2))


async def _tenants(args: argparse.Namespace, settings: GatewaySettings, session: AsyncSession) -> int:
    if args.action == "list":
        _print([tenant_out(t) for t in await tenants.list_tenants(session)])
        return 0
    tenant = await tenants.create_tenant(session, tenant_id=args.tenant_id, name=args.name or args.tenant_id)
    if tenant is None:
        print(f"tenant {args.tenant_id!r} exists", file=sys.stderr)
        return 1
    _print(TenantCreated(**tenant_out(tenant).model_dump(), callback_secret=tenant.callback_secret or ""))
    return 0


async def _keys(args: argparse.Namespace, settings: GatewaySettings, session: AsyncSession) -> int:
    tenant_id = args.tenant or settings.default_tenant_id
    if await tenants.get_tenant(session, tenant_id=tenant_id) is None:
        print(f"no tenant {tenant_id!r}", file=sys.stderr)
        return 1
    if args.action == "list":
        _print([key_out(k) for k in await api_keys.list_keys(session, tenant_id=tenant_id, include_revoked=args.all)])
        return 0
    if args.action == "revoke":
        key = await api_keys.get_key(session, tenant_id=tenant_id, key_id=args.key_id)
        if key is None:
            print(f"no key {args.key_id!r} in tenant {tenant_id!r}", file=sys.stderr)
            return 1
        _print(key_out(await api_keys.revoke_key(session, key=key)))
        return 0
    if args.callback_url is not None:
        problem = await callback_url_problem(args.callback_url, allow_private=settings.callback_allow_private_urls)
        if problem is not None:
            print(problem, file=sys.stderr)
            return 1
    created = await api_keys.create_key(
        session,
        tenant_id=tenant_id,
        name=args.name,
        scopes=[Scope(s) for s in args.scopes],
        rate_limit_per_minute=args.rate_limit,
        callback_url=args.callback_url,
    )
    _print(ApiKeyCreated(**key_out(created.key).model_dump(), key=created.token))
    return 0
