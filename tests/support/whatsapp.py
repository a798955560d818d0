"""The WhatsApp adapter as its own process (`python -m whatsapp_adapter serve`) for the tests, and
what they read of its Redis state; the stack and Wazzup emulator are parley_testkit's."""

from __future__ import annotations

import json
import random
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import redis

from gateway.app import create_app as create_gateway_app
from parley_testkit.servers import ServiceProcess, UvicornThread, free_port, wait_until
from parley_testkit.stack import TOKENS, Stack
from parley_testkit.wazzup_emulator import WazzupEmulator
from whatsapp_adapter import keys

WEBHOOK_SECRET = "test-webhook-secret-5f2a9c"


def restart_gateway(stack: Stack) -> None:
    """A new gateway process-equivalent on the same port (the adapter keeps its GATEWAY_URL)."""
    stack.gateway = UvicornThread(create_gateway_app(stack.settings), port=stack.gateway.port).start()


@dataclass
class Adapter:
    """The adapter service as its own process, restartable with the same settings (same consumer name)."""

    env: dict[str, str]
    workdir: Path
    port: int = field(default_factory=free_port)
    process: ServiceProcess | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def webhook_url(self) -> str:
        return f"{self.url}/wazzup/webhook/{WEBHOOK_SECRET}"

    def start(self) -> Adapter:
        assert self.process is None or not self.process.alive()
        self.process = ServiceProcess(
            ["-m", "whatsapp_adapter", "serve", "--port", str(self.port)],
            env=self.env,
            log_path=self.workdir / f"adapter-{time.time_ns()}.log",
            cwd=self.workdir,
        )

        def healthy() -> bool:
            assert self.process is not None and self.process.alive(), self.process.log() if self.process else ""
            return httpx.get(f"{self.url}/health", timeout=2).status_code == 200

        wait_until(healthy, timeout=30, what="whatsapp adapter healthy")
        return self

    def stop(self, sig: int | None = None) -> None:
        if self.process is not None:
            self.process.stop(*(() if sig is None else (sig,)))

    def alive(self) -> bool:
        return self.process is not None and self.process.alive()

    def register_with(self, emulator: WazzupEmulator) -> None:
        """Subscribe this adapter's webhook at the emulator, as `register-webhook` does at Wazzup."""
        registered = httpx.patch(
            f"{emulator.url}/webhooks",
            json={"webhooksUri": self.webhook_url, "subscriptions": {"messagesAndStatuses": True}},
            headers={"Authorization": f"Bearer {emulator.api_key}"},
            timeout=30,
        )
        assert registered.status_code == 200, registered.text

    def log(self) -> str:
        return self.process.log() if self.process else ""


def adapter_env(stack: Stack, emulator: WazzupEmulator, **overrides: str) -> dict[str, str]:
    """The adapter's environment under the names .env.example documents (WAZZUP_… and the shared ones)."""
    return {
        "PARLEY_ENV": "test",
        "WAZZUP_API_KEY": emulator.api_key,
        "WAZZUP_API_BASE": emulator.url,
        "WAZZUP_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "GATEWAY_URL": stack.url,
        "SERVICE_TOKEN": TOKENS["service"],
        "REDIS_URL": stack.settings.redis_url,
        "WAZZUP_CONSUMER_NAME": f"test-{uuid.uuid4().hex[:8]}",
        "WAZZUP_RATE_LIMIT_WINDOW_SECONDS": "1",
        "WAZZUP_RETRY_BACKOFF_SECONDS": "0.2",
        "WAZZUP_FORWARD_RETRY_MAX_SECONDS": "1",
        **overrides,
    }


def reset_adapter_state(stack: Stack) -> None:
    """Each test starts with no reply events, no inbound queue and nothing remembered."""
    client = redis.Redis.from_url(stack.settings.redis_url)
    stale = [keys.REPLY_STREAM, *client.scan_iter(match="parley:wa:*", count=1000)]
    client.delete(*stale)
    client.close()


def new_chat() -> str:
    """A customer's phone number, digits only as Wazzup's WhatsApp chatId."""
    return f"9715{random.randrange(10**8, 10**9)}"


def stream_entries(state: redis.Redis, stream: str) -> list[dict[str, str]]:
    entries: Any = state.xrange(stream)
    return [dict(fields) for _id, fields in entries]


def inbound_entries(state: redis.Redis) -> list[dict[str, Any]]:
    """The messages the adapter accepted for the gateway (kept in its Redis stream)."""
    return [json.loads(fields["message"]) for fields in stream_entries(state, keys.INBOUND_STREAM)]


def handed_over(state: redis.Redis) -> bool:
    """Every accepted message has been taken by the gateway (no pending entry left)."""
    if not state.exists(keys.INBOUND_STREAM):
        return False
    pending = state.xpending(keys.INBOUND_STREAM, keys.CONSUMER_GROUP)
    return int(pending["pending"]) == 0 and state.xlen(keys.INBOUND_STREAM) > 0


def reply_events(state: redis.Redis) -> list[dict[str, Any]]:
    return [json.loads(fields["event"]) for fields in stream_entries(state, keys.REPLY_STREAM)]
