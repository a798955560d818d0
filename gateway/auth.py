"""Who is calling, and what they may do.

A bearer token resolves to a `Principal` (a tenant, a set of scopes and the key's own limits).
Every token is an API key stored hashed in the database (`gateway.services.api_keys`): the
partner keys made through the admin API or the CLI, and the service, admin and worker tokens
from the environment, which the gateway writes in as managed keys of the default tenant.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class Scope(StrEnum):
    messages_write = "messages:write"
    tasks_read = "tasks:read"
    conversations_read = "conversations:read"
    knowledge_read = "knowledge:read"
    knowledge_write = "knowledge:write"
    admin = "admin"
    internal = "internal"


#: Scopes a partner key may be given (internal is the workers' alone).
PARTNER_SCOPES = frozenset(s for s in Scope if s is not Scope.internal)


@dataclass(frozen=True)
class Principal:
    name: str
    tenant_id: str
    scopes: frozenset[Scope]
    #: The API key's id; None only for principals made in tests or code, never for a request.
    key_id: str | None = None
    rate_limit_per_minute: int | None = None
    callback_url: str | None = None

    def allows(self, scope: Scope) -> bool:
        return scope in self.scopes or (Scope.admin in self.scopes and scope is not Scope.internal)


class Authenticator(Protocol):
    async def authenticate(self, token: str) -> Principal | None: ...
