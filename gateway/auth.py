"""Who is calling, and what they may do.

A bearer token resolves to a `Principal` (a tenant and a set of scopes). Today the tokens are
the static service, admin and worker tokens from the settings; per-partner API keys slot in as
another `Authenticator` that looks keys up in the database.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
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


@dataclass(frozen=True)
class Principal:
    name: str
    tenant_id: str
    scopes: frozenset[Scope]

    def allows(self, scope: Scope) -> bool:
        return scope in self.scopes or (Scope.admin in self.scopes and scope is not Scope.internal)


class Authenticator(Protocol):
    async def authenticate(self, token: str) -> Principal | None: ...


@dataclass(frozen=True)
class StaticToken:
    token: str
    principal: Principal


class StaticTokenAuthenticator:
    """Compares the presented token with each configured one in constant time."""

    def __init__(self, tokens: Sequence[StaticToken]) -> None:
        self._tokens = [t for t in tokens if t.token]

    async def authenticate(self, token: str) -> Principal | None:
        presented = token.encode()
        found: Principal | None = None
        for candidate in self._tokens:
            if hmac.compare_digest(presented, candidate.token.encode()):
                found = candidate.principal
        return found


class ChainAuthenticator:
    """Tries authenticators in order; the first that knows the token wins."""

    def __init__(self, authenticators: Sequence[Authenticator]) -> None:
        self._authenticators = list(authenticators)

    async def authenticate(self, token: str) -> Principal | None:
        for authenticator in self._authenticators:
            principal = await authenticator.authenticate(token)
            if principal is not None:
                return principal
        return None


def static_tokens(
    *, service_token: str, admin_token: str, worker_token: str, tenant_id: str
) -> StaticTokenAuthenticator:
    service_scopes = frozenset({Scope.messages_write, Scope.tasks_read, Scope.conversations_read, Scope.knowledge_read})
    return StaticTokenAuthenticator(
        [
            StaticToken(service_token, Principal("service", tenant_id, service_scopes)),
            StaticToken(admin_token, Principal("admin", tenant_id, frozenset({Scope.admin}))),
            StaticToken(worker_token, Principal("worker", tenant_id, frozenset({Scope.internal}))),
        ]
    )
