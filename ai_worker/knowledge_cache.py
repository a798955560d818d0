"""A tenant's derived knowledge (catalog rows, curated-answer index), built once per knowledge version.

The version is a Redis counter per tenant: `Runtime.knowledge_changed` bumps it after an ingestion
or a deletion, and the gateway when staff change a curated answer, so every worker process sees a
change at its next read without being told.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from redis import Redis

from parley_contract.names import KNOWLEDGE_VERSION_PREFIX

T = TypeVar("T")


def knowledge_version(redis: Redis, tenant_id: str) -> int:
    return int(redis.get(KNOWLEDGE_VERSION_PREFIX + tenant_id) or 0)


class KnowledgeCache(Generic[T]):
    def __init__(self, *, build: Callable[[str], T], version_of: Callable[[str], int]) -> None:
        self._build = build
        self._version_of = version_of
        self._values: dict[str, tuple[int, T]] = {}
        self._lock = threading.Lock()

    def get(self, tenant_id: str) -> T:
        version = self._version_of(tenant_id)
        with self._lock:
            cached = self._values.get(tenant_id)
            if cached is not None and cached[0] == version:
                return cached[1]
        # Built outside the lock (it reads the gateway); a concurrent build of the same version is harmless.
        value = self._build(tenant_id)
        with self._lock:
            self._values[tenant_id] = (version, value)
        return value
