from __future__ import annotations

from pydantic import Field

from parley_contract.names import DEFAULT_TENANT_ID
from parley_contract.schemas import DEFAULT_MAX_TEXT_CHARS
from parley_contract.settings import DEV_SECRETS, ServiceSettings


def async_database_url(url: str) -> str:
    """Map a plain DATABASE_URL onto the async driver we use for it."""
    for plain, driver in (
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


class GatewaySettings(ServiceSettings):
    database_url: str = "sqlite:///var/parley.db"
    redis_url: str = "redis://127.0.0.1:6379/0"
    service_token: str = DEV_SECRETS["service_token"]
    admin_token: str = DEV_SECRETS["admin_token"]
    worker_token: str = DEV_SECRETS["worker_token"]
    default_tenant_id: str = DEFAULT_TENANT_ID
    max_text_chars: int = Field(default=DEFAULT_MAX_TEXT_CHARS, ge=1)
    max_upload_bytes: int = 20 * 1024 * 1024
    #: A running task whose worker has not finished within this many seconds may be claimed again.
    task_lease_seconds: int = 600
    #: The reconciler looks for stuck tasks this often, and puts back a queued task after this long.
    reconcile_interval_seconds: float = 15.0
    reconcile_queued_grace_seconds: float = 60.0
    #: How long a knowledge search waits for a worker before answering 504.
    search_timeout_seconds: float = 15.0
    #: A worker whose status heartbeat is older than this is not counted by /ready.
    worker_stale_seconds: int = 60
    host: str = "127.0.0.1"
    port: int = 8000

    @property
    def async_database_url(self) -> str:
        return async_database_url(self.database_url)
