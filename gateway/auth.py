"""Who is calling, and what they may do.

A bearer token resolves to a `Principal` (a tenant, a set of scopes and the key's own limits).
Every token is an API key stored hashed in the database (`gateway.services.api_keys`): the
partner keys made through the admin API or the CLI, and the service, admin and worker tokens
from the environment, which the gateway writes in as managed keys of the default tenant.

Two scopes belong to the deployment alone and are never granted through the API or the CLI:
`internal` (the workers' API, WORKER_TOKEN) and `operator` (ADMIN_TOKEN: every tenant, their
limits, quotas and models).
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
    operator = "operator"


#: Scopes only the deployment's own managed keys hold; `admin` does not imply them.
DEPLOYMENT_SCOPES = frozenset({Scope.internal, Scope.operator})
#: Scopes a partner key may be given, through the admin API or the CLI.
PARTNER_SCOPES = frozenset(s for s in Scope if s not in DEPLOYMENT_SCOPES)


@dataclass(frozen=True)
class Principal:
    name: str
    tenant_id: str
    scopes: frozenset[Scope]
    #: The API key's id; None only for principals made in tests or code, never for a request.
    key_id: str | None = None
    rate_limit_per_minute: int | None = None
    callback_url: str | None = None
    #: Written from the environment (SERVICE_TOKEN, ADMIN_TOKEN, WORKER_TOKEN), not made through an API.
    managed: bool = False

    def allows(self, scope: Scope) -> bool:
        return scope in self.scopes or (Scope.admin in self.scopes and scope not in DEPLOYMENT_SCOPES)

    @property
    def is_worker(self) -> bool:
        """The deployment's worker token: a key with `internal` that was not provisioned from
        WORKER_TOKEN (e.g. one made by an older version's admin API) is not a worker."""
        return self.managed and Scope.internal in self.scopes

    @property
    def is_operator(self) -> bool:
        """The deployment's operator (ADMIN_TOKEN): manages every tenant and their limits."""
        return self.managed and Scope.operator in self.scopes


class Authenticator(Protocol):
    async def authenticate(self, token: str) -> Principal | None: ...
