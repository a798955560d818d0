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
    #: A claim holds a task this long; the worker renews it every third of it while it works, so a
    #: killed worker's task is claimed again within about this long (a live one never loses it).
    task_lease_seconds: int = Field(default=30, ge=3)
    #: The reconciler looks for stuck tasks this often, and puts back a queued task after this long.
    reconcile_interval_seconds: float = 15.0
    reconcile_queued_grace_seconds: float = 60.0
    #: Messages of one conversation sent within this many seconds of each other are answered once,
    #: together (the latest is answered; 0: every message on its own). A single message waits this long.
    burst_window_seconds: float = Field(default=2.0, ge=0)
    #: Comma-separated channels whose messages are never merged (partners expect one answer per request).
    burst_excluded_channels: str = "api"
    #: On SIGTERM, how long requests in flight may take before they are cut (below docker's 10 s stop grace).
    shutdown_timeout_seconds: int = Field(default=8, gt=0)
    #: How long a knowledge search waits for a worker before answering 503 (none took it up) or 504.
    search_timeout_seconds: float = 15.0
    #: A worker whose status heartbeat is older than this is not counted by /ready.
    worker_stale_seconds: int = 60
    host: str = "127.0.0.1"
    port: int = 8000

    # ---- partner API (issue #5) ----
    #: Requests per minute per API key, unless the key sets its own.
    rate_limit_per_minute: int = Field(default=600, ge=1)
    #: Messages per minute from one end-user chat (channel + chat_id) of a tenant.
    chat_rate_limit_per_minute: int = Field(default=20, ge=1)
    #: A tenant's messages waiting for or being answered at once (more: 429 with Retry-After), unless
    #: the operator set the tenant's own `max_tasks_in_flight`; one tenant cannot fill every worker's queue.
    tenant_max_tasks_in_flight: int = Field(default=50, ge=1)
    #: Bodies larger than this are refused with 413 (uploads have MAX_UPLOAD_BYTES).
    max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    #: How long an Idempotency-Key's response is replayed.
    idempotency_ttl_seconds: int = Field(default=24 * 3600, ge=60)
    #: Callback deliveries: attempts before a delivery is marked failed, and the backoff between them.
    callback_max_attempts: int = Field(default=6, ge=1)
    callback_backoff_seconds: float = Field(default=2.0, gt=0)
    callback_backoff_max_seconds: float = Field(default=600.0, gt=0)
    callback_timeout_seconds: float = Field(default=10.0, gt=0)
    callback_poll_interval_seconds: float = Field(default=1.0, gt=0)
    #: May callback URLs name loopback, private, link-local or reserved addresses? Off in every
    #: environment: a partner's URL must not reach our own network. On for a receiver on this host or LAN.
    callback_allow_private_urls: bool = False
    #: How long POST /v1/chat/completions waits for the answer before 504.
    openai_wait_seconds: float = Field(default=120.0, gt=0)
    #: Log message text and phone numbers (debugging only); otherwise they are redacted.
    log_content: bool = False
    #: One JSON object per log line (false: plain text for a terminal).
    log_json: bool = True

    # ---- hygiene (issue #15) ----
    #: Serve /docs, /redoc and /openapi.json? None: yes, except with PARLEY_ENV=production.
    api_docs: bool | None = None
    #: When set, GET /metrics needs `Authorization: Bearer <METRICS_TOKEN>` (in production: 32+ random characters).
    metrics_token: str = ""
    #: Serve /metrics without a token? None: yes, except with PARLEY_ENV=production (then only with METRICS_TOKEN).
    metrics_public: bool | None = None

    @property
    def api_docs_enabled(self) -> bool:
        return self.parley_env != "production" if self.api_docs is None else self.api_docs

    @property
    def metrics_served_publicly(self) -> bool:
        return self.parley_env != "production" if self.metrics_public is None else self.metrics_public

    @property
    def burst_excluded_channel_set(self) -> frozenset[str]:
        return frozenset(c.strip() for c in self.burst_excluded_channels.split(",") if c.strip())

    @property
    def async_database_url(self) -> str:
        return async_database_url(self.database_url)
