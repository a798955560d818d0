"""The bot's settings, read from the environment / `.env` in the entry point and passed down.

Its own settings are read as TELEGRAM_<NAME> first, then <NAME> (`PrefixedSettings`): TELEGRAM_MODE,
TELEGRAM_WEBHOOK_SECRET, …; the shared ones (REDIS_URL, GATEWAY_URL, SERVICE_TOKEN, STT_*) without the prefix.
"""

from __future__ import annotations

import re
import socket
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator

from parley_contract.settings import DEV_SECRETS, PrefixedSettings, prefixed_config

_SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class BotSettings(PrefixedSettings):
    model_config = prefixed_config("TELEGRAM_")

    #: Log message text and phone numbers (debugging only); otherwise they are redacted.
    log_content: bool = False
    #: One JSON object per log line (false: plain text for a terminal).
    log_json: bool = True

    #: From @BotFather: `<bot id>:<secret>`.
    bot_token: SecretStr
    gateway_url: str = "http://127.0.0.1:8000"
    #: The gateway's SERVICE_TOKEN (scopes messages:write, tasks:read, conversations:read); TELEGRAM_GATEWAY_TOKEN
    #: gives the bot a key of its own. GATEWAY_TOKEN: the name older setups used.
    gateway_token: SecretStr = Field(
        default=SecretStr(DEV_SECRETS["service_token"]),
        validation_alias=AliasChoices("TELEGRAM_GATEWAY_TOKEN", "SERVICE_TOKEN", "GATEWAY_TOKEN"),
    )
    gateway_timeout_seconds: float = 15.0
    redis_url: str = "redis://127.0.0.1:6379/0"

    mode: Literal["polling", "webhook"] = "polling"
    #: The public HTTPS URL Telegram posts updates to (webhook mode), e.g. https://bot.example.com/telegram/webhook
    webhook_url: str = ""
    #: Sent by Telegram in X-Telegram-Bot-Api-Secret-Token on every webhook call: 1-256 of A-Za-z0-9_-
    webhook_secret: SecretStr = SecretStr("")
    webhook_host: str = "0.0.0.0"
    webhook_port: int = 8081
    webhook_path: str = "/telegram/webhook"
    #: A local Bot API server (or the tests' emulator); empty: https://api.telegram.org
    telegram_api_base: str = ""

    #: Per-user throttling: a bucket of `throttle_burst` messages refilled at `throttle_rate` per second.
    throttle_burst: int = Field(default=5, ge=1)
    throttle_rate: float = Field(default=0.5, gt=0)
    #: Pause between the parts of a split answer (Telegram: about 1 message per second per chat).
    split_pause_seconds: float = 1.0
    typing_interval_seconds: float = 4.0
    typing_max_seconds: float = 180.0
    #: Attempts per Telegram call on 429 / 5xx / network errors before the delivery is retried later.
    telegram_max_attempts: int = 6
    #: Backoff cap for messages the gateway has not accepted yet (kept in Redis until accepted).
    retry_max_seconds: float = 60.0
    #: Reply-stream consumer; keep it stable across restarts so the bot resumes its own pending replies.
    consumer_name: str = Field(default_factory=socket.gethostname)
    #: A reply another consumer took but has not acknowledged for this long is taken over.
    reclaim_idle_seconds: float = 60.0
    #: On SIGTERM, how long a reply being sent may take to finish (below docker's 10 s stop grace).
    shutdown_timeout_seconds: int = Field(default=8, gt=0)

    #: Speech-to-text for voice notes: an OpenAI-compatible `/audio/transcriptions` API; empty: off.
    stt_base_url: str = ""
    stt_api_key: SecretStr = SecretStr("")
    stt_model: str = "whisper-1"

    @model_validator(mode="after")
    def _check(self) -> BotSettings:
        if ":" not in self.bot_token.get_secret_value():
            raise ValueError("TELEGRAM_BOT_TOKEN must look like '<bot id>:<secret>' (from @BotFather)")
        if self.mode == "webhook":
            if not self.webhook_url:
                raise ValueError("TELEGRAM_MODE=webhook needs TELEGRAM_WEBHOOK_URL (the public URL Telegram posts to)")
            if not _SECRET_TOKEN.match(self.webhook_secret.get_secret_value()):
                raise ValueError("TELEGRAM_MODE=webhook needs TELEGRAM_WEBHOOK_SECRET: 1-256 characters of A-Za-z0-9_-")
        if self.parley_env == "production" and self.gateway_token.get_secret_value() == DEV_SECRETS["service_token"]:
            raise ValueError("SERVICE_TOKEN is the development default; set the gateway's real SERVICE_TOKEN")
        return self
