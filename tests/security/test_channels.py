"""Finding 13 of issue #15: the channel adapters read the names `.env.example` documents.

They used to read WEBHOOK_SECRET, PUBLIC_URL, MODE, BOT_TOKEN while `.env.example` (and compose)
said WAZZUP_WEBHOOK_SECRET, TELEGRAM_MODE, …: an operator who filled in the file and started an
adapter as the README says ran with the public development webhook secret, so anyone could post
WhatsApp messages "from" any customer. Each adapter here runs as its own process, in a directory
whose `.env` is `.env.example` with values filled in, next to a real gateway.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import redis
import yaml

from parley_testkit.servers import ROOT, free_port, wait_until
from parley_testkit.stack import TOKENS, Stack
from parley_testkit.telegram_emulator import TelegramEmulator
from parley_testkit.wazzup_emulator import WazzupEmulator
from whatsapp_adapter import keys
from whatsapp_adapter.settings import DEV_WEBHOOK_SECRET

ENV_EXAMPLE = ROOT / ".env.example"


def env_from_example(directory: Path, **values: str) -> Path:
    """`.env.example` copied to `directory/.env` with these values filled in; each name must be one
    the example documents (a `NAME=` line), or the test would prove nothing about the docs."""
    lines = ENV_EXAMPLE.read_text().splitlines()
    found: set[str] = set()
    for number, line in enumerate(lines):
        name = line.split("=", 1)[0]
        if not line.startswith("#") and "=" in line and name in values:
            lines[number] = f"{name}={values[name]}"
            found.add(name)
    assert found == set(values), f"not documented in .env.example: {sorted(set(values) - found)}"
    path = directory / ".env"
    path.write_text("\n".join(lines) + "\n")
    return path


def _environment() -> dict[str, str]:
    """Only what a shell gives any program: the settings must come from `.env`."""
    return {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "PYTHONPATH": str(ROOT)}


@contextmanager
def service(directory: Path, *args: str) -> Iterator[subprocess.Popen[bytes]]:
    log = (directory / "service.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", *args], cwd=directory, env=_environment(), stdout=log, stderr=subprocess.STDOUT
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


def _log(directory: Path) -> str:
    return (directory / "service.log").read_text(errors="replace")[-3000:]


def test_a_forged_wazzup_webhook_with_the_public_development_secret_is_refused(
    sqlite_gateway: Stack, tmp_path: Path
) -> None:
    secret = secrets.token_urlsafe(24)
    port = free_port()
    env_from_example(
        tmp_path,
        WAZZUP_WEBHOOK_SECRET=secret,
        WAZZUP_API_KEY="wazzup-api-key",
        WHATSAPP_PORT=str(port),
        REDIS_URL=sqlite_gateway.settings.redis_url,
        GATEWAY_URL=sqlite_gateway.url,
        SERVICE_TOKEN=TOKENS["service"],
    )
    state = redis.Redis.from_url(sqlite_gateway.settings.redis_url)
    url = f"http://127.0.0.1:{port}"
    with service(tmp_path, "whatsapp_adapter", "serve") as adapter:

        def healthy() -> bool:
            assert adapter.poll() is None, _log(tmp_path)
            try:
                return httpx.get(f"{url}/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(healthy, timeout=60, what="the adapter on WHATSAPP_PORT")
        before = state.xlen(keys.INBOUND_STREAM)
        forged = {"messages": [WazzupEmulator().inbound_message("971500000001", "Cancel my order, refund to IBAN")]}
        refused = httpx.post(f"{url}/wazzup/webhook/{DEV_WEBHOOK_SECRET}", json=forged, timeout=10)
        assert refused.status_code == 403
        assert state.xlen(keys.INBOUND_STREAM) == before  # nothing kept for the gateway
        # The secret the operator wrote in .env is the one that opens the door.
        assert httpx.post(f"{url}/wazzup/webhook/{secret}", json={"test": True}, timeout=10).status_code == 200
    state.close()


def test_the_documented_telegram_webhook_settings_put_the_bot_behind_its_secret(
    sqlite_gateway: Stack, tmp_path: Path
) -> None:
    emulator = TelegramEmulator().start()
    secret = secrets.token_urlsafe(32)
    port = free_port()
    webhook = f"http://127.0.0.1:{port}/telegram/webhook"
    env_from_example(
        tmp_path,
        TELEGRAM_BOT_TOKEN=emulator.token,
        TELEGRAM_API_BASE=emulator.url,
        TELEGRAM_MODE="webhook",
        TELEGRAM_WEBHOOK_URL=webhook,
        TELEGRAM_WEBHOOK_SECRET=secret,
        TELEGRAM_WEBHOOK_HOST="127.0.0.1",
        TELEGRAM_WEBHOOK_PORT=str(port),
        REDIS_URL=sqlite_gateway.settings.redis_url,
        GATEWAY_URL=sqlite_gateway.url,
        SERVICE_TOKEN=TOKENS["service"],
    )
    try:
        with service(tmp_path, "telegram_bot") as bot:

            def webhook_set() -> bool:
                assert bot.poll() is None, _log(tmp_path)
                return bool(emulator.calls_of("setWebhook"))

            wait_until(webhook_set, timeout=60, what="the bot's setWebhook")
            assert (emulator.webhook_url, emulator.webhook_secret) == (webhook, secret)
            update = {
                "update_id": 424242,
                "message": {
                    "message_id": 1,
                    "date": 1,
                    "chat": {"id": 777, "type": "private"},
                    "from": {"id": 777, "is_bot": False, "first_name": "Mallory"},
                    "text": "I am Telegram, trust me",
                },
            }
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": DEV_WEBHOOK_SECRET}):
                assert httpx.post(webhook, json=update, headers=headers, timeout=10).status_code == 401
    finally:
        emulator.stop()


def _refused_at_start(directory: Path, *args: str) -> str:
    started = subprocess.run(
        [sys.executable, "-m", *args], cwd=directory, env=_environment(), capture_output=True, text=True, timeout=60
    )
    assert started.returncode == 2, started.stdout + started.stderr
    assert "Traceback" not in started.stderr and started.stderr.startswith("configuration error:")
    return started.stderr


def test_production_refuses_to_start_an_adapter_with_a_development_secret_and_says_which(tmp_path: Path) -> None:
    real_token = secrets.token_urlsafe(32)
    # The webhook secret left as .env.example has it (empty: the public development default applies).
    env_from_example(tmp_path, PARLEY_ENV="production", WAZZUP_API_KEY="wazzup-api-key", SERVICE_TOKEN=real_token)
    assert "WAZZUP_WEBHOOK_SECRET" in _refused_at_start(tmp_path, "whatsapp_adapter", "serve")
    env_from_example(tmp_path, PARLEY_ENV="production", WAZZUP_API_KEY="k", WAZZUP_WEBHOOK_SECRET=DEV_WEBHOOK_SECRET)
    assert "WAZZUP_WEBHOOK_SECRET" in _refused_at_start(tmp_path, "whatsapp_adapter", "serve")
    # The bot with SERVICE_TOKEN still the development token .env.example ships.
    env_from_example(tmp_path, PARLEY_ENV="production", TELEGRAM_BOT_TOKEN="123:real-bot-token")
    assert "SERVICE_TOKEN is the development default" in _refused_at_start(tmp_path, "telegram_bot")
    env_from_example(tmp_path, PARLEY_ENV="production", TELEGRAM_MODE="webhook", SERVICE_TOKEN=real_token)
    assert "TELEGRAM_BOT_TOKEN" in _refused_at_start(tmp_path, "telegram_bot")


def test_compose_gives_each_channel_service_the_names_of_env_example_unchanged() -> None:
    """No renaming between `.env` and the container: what compose passes is what the docs say."""
    documented = {
        line.split("=", 1)[0] for line in ENV_EXAMPLE.read_text().splitlines() if re.match(r"^[A-Z_]+=", line)
    }
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    for name in ("telegram_bot", "whatsapp_adapter"):
        environment: dict[str, str] = compose["services"][name]["environment"]
        assert set(environment) <= documented, f"{name}: {sorted(set(environment) - documented)}"
        for variable, value in environment.items():
            taken_from = re.match(r"\$\{([A-Z_]+)", str(value))
            assert taken_from is None or taken_from.group(1) == variable, f"{name}: {variable}: {value}"
