"""The adapter's settings: built once in the entry point and passed down.

Its own settings are read as WAZZUP_<NAME> first, then <NAME> (`PrefixedSettings`): WAZZUP_WEBHOOK_SECRET,
WAZZUP_PUBLIC_URL, WAZZUP_API_KEY, …; its listen address is WHATSAPP_HOST / WHATSAPP_PORT; the shared ones
(REDIS_URL, GATEWAY_URL, SERVICE_TOKEN, STT_*) without a prefix.
"""

from __future__ import annotations

import socket

from pydantic import AliasChoices, Field, model_validator

from parley_contract.settings import DEV_SECRETS, PrefixedSettings, prefixed_config

DEV_WEBHOOK_SECRET = "dev-webhook-secret"
WAZZUP_TEXT_LIMIT = 10_000


class WhatsAppSettings(PrefixedSettings):
    model_config = prefixed_config("WAZZUP_")

    #: Log message text and phone numbers (debugging only); otherwise they are redacted.
    log_content: bool = False
    #: One JSON object per log line (false: plain text for a terminal).
    log_json: bool = True
    wazzup_api_key: str = ""
    wazzup_api_base: str = "https://api.wazzup24.com/v3"
    #: The channel we answer from; empty: the channel the customer wrote to, else the first active one.
    wazzup_channel_id: str | None = None
    #: Only for integrations with a crmKey: Wazzup then sends `Authorization: Bearer <crmKey>`.
    wazzup_crm_key: str | None = None
    #: The unguessable part of the webhook path: POST /wazzup/webhook/<secret>.
    webhook_secret: str = DEV_WEBHOOK_SECRET
    #: Our public base URL (https://bot.example.com), used by `register-webhook`.
    public_url: str | None = None

    gateway_url: str = "http://127.0.0.1:8000"
    #: The gateway's SERVICE_TOKEN; WAZZUP_GATEWAY_TOKEN gives the adapter a key of its own. GATEWAY_TOKEN: the
    #: name older setups used.
    gateway_token: str = Field(
        default=DEV_SECRETS["service_token"],
        validation_alias=AliasChoices("WAZZUP_GATEWAY_TOKEN", "SERVICE_TOKEN", "GATEWAY_TOKEN"),
    )
    redis_url: str = "redis://127.0.0.1:6379/0"
    #: The consumer name in the Redis consumer groups; keep it stable across restarts of one instance.
    consumer_name: str = Field(default_factory=lambda: f"whatsapp-{socket.gethostname()}")

    #: WHATSAPP_HOST / WHATSAPP_PORT: not HOST/PORT, which the gateway reads from the same .env.
    whatsapp_host: str = "127.0.0.1"
    whatsapp_port: int = 8010

    max_message_chars: int = Field(default=WAZZUP_TEXT_LIMIT, ge=100, le=WAZZUP_TEXT_LIMIT)
    send_timeout_seconds: float = 10.0
    #: Attempts for a send that fails with 5xx or a timeout (always with the same crmMessageId).
    send_attempts: int = Field(default=4, ge=1)
    #: Wazzup's rate-limit window: after a 429 we wait this long before trying again.
    rate_limit_window_seconds: float = 5.0
    rate_limit_attempts: int = Field(default=6, ge=1)
    retry_backoff_seconds: float = 1.0
    #: Longest pause between attempts to hand a message to an unreachable gateway (retried forever).
    forward_retry_max_seconds: float = 30.0
    #: On SIGTERM, how long a send or hand-over in flight may take to finish (below docker's 10 s grace).
    shutdown_timeout_seconds: int = Field(default=8, gt=0)
    #: Pending entries of another consumer idle this long are taken over (a crashed instance).
    reclaim_idle_seconds: float = 60.0
    #: How long message ids are remembered for de-duplication and delivery bookkeeping.
    remember_seconds: int = 7 * 24 * 3600

    #: Speech-to-text for voice notes: any OpenAI-compatible API (e.g. https://api.openai.com/v1); empty: off.
    stt_base_url: str | None = None
    stt_api_key: str = ""
    stt_model: str = "whisper-1"
    stt_timeout_seconds: float = 60.0
    stt_max_bytes: int = 25 * 1024 * 1024

    apology_text: str = "Sorry, we could not answer your message right now. A colleague will get back to you soon."
    voice_text: str = "Sorry, we cannot listen to voice messages yet. Could you please type your question?"
    media_text: str = "Thank you! We can only read text messages for now. Could you please describe it in words?"
    unreadable_text: str = "Sorry, we could not process that message. Could you please send a shorter text?"

    @model_validator(mode="after")
    def _real_secrets_in_production(self) -> WhatsAppSettings:
        if self.parley_env == "production":
            if self.webhook_secret == DEV_WEBHOOK_SECRET or len(self.webhook_secret) < 16:
                raise ValueError(
                    "WAZZUP_WEBHOOK_SECRET must be a random string of at least 16 characters in production "
                    "(the development default is public)"
                )
            if self.gateway_token == DEV_SECRETS["service_token"]:
                raise ValueError("SERVICE_TOKEN is the development default; set the gateway's real SERVICE_TOKEN")
            if not self.wazzup_api_key:
                raise ValueError("WAZZUP_API_KEY is required in production")
        return self

    @property
    def webhook_url(self) -> str:
        if not self.public_url:
            raise ValueError("set WAZZUP_PUBLIC_URL (our address as Wazzup reaches it) to register the webhook")
        return f"{self.public_url.rstrip('/')}/wazzup/webhook/{self.webhook_secret}"
