"""The Telegram bot as its own process (`python -m telegram_bot`) against the Bot API emulator."""

from __future__ import annotations

import signal
import time
from dataclasses import dataclass
from pathlib import Path

import redis

from parley_contract.names import reply_stream
from parley_testkit.servers import ServiceProcess, wait_until
from parley_testkit.stack import TOKENS
from parley_testkit.telegram_emulator import TelegramEmulator


@dataclass
class BotProcess:
    process: ServiceProcess
    emulator: TelegramEmulator
    redis_url: str
    webhook_url: str = ""
    #: Where `log()` starts: a bot shared by several tests marks the start of each (`mark_log`).
    log_from: int = 0

    def stop(self, sig: int = signal.SIGTERM) -> None:
        self.process.stop(sig)

    def alive(self) -> bool:
        return self.process.alive()

    def mark_log(self) -> None:
        """From here on `log()` returns only what the bot logs after this call."""
        self.log_from = len(self.process.log())

    def log(self) -> str:
        """What the bot logged since `mark_log` (or since it started)."""
        return self.process.log(self.log_from)

    def wait_answer(self, chat_id: int, count: int = 1, timeout: float = 90) -> list[str]:
        wait_until(
            lambda: len(self.emulator.texts(chat_id)) >= count,
            timeout=timeout,
            what=f"{count} bot message(s) in chat {chat_id}; bot log:\n{self.process.log()[-3000:]}",
        )
        return self.emulator.texts(chat_id)

    def wait_settled(self, timeout: float = 60) -> None:
        """Every reply on the stream acknowledged, no message parked, every update confirmed."""
        client = redis.Redis.from_url(self.redis_url)

        def settled() -> bool:
            assert self.process.alive(), self.process.log()[-3000:]
            groups = client.xinfo_groups(reply_stream("telegram"))
            pending = sum(int(g["pending"]) for g in groups)
            parked = sum(int(client.zcard(k)) for k in client.scan_iter("parley:telegram:*:pending-due"))
            return pending == 0 and parked == 0 and self.emulator.pending_updates() == 0

        try:
            wait_until(settled, timeout=timeout, what="bot settled")
        finally:
            client.close()


def bot_env(*, stack_url: str, redis: str, emulator: TelegramEmulator, **extra: str) -> dict[str, str]:
    """The bot's environment under the names .env.example documents (TELEGRAM_… and the shared ones)."""
    return {
        "PARLEY_ENV": "test",
        "TELEGRAM_BOT_TOKEN": emulator.token,
        "TELEGRAM_API_BASE": emulator.url,
        "GATEWAY_URL": stack_url,
        "SERVICE_TOKEN": TOKENS["service"],
        "REDIS_URL": redis,
        "TELEGRAM_CONSUMER_NAME": "test-bot",
        "TELEGRAM_SPLIT_PAUSE_SECONDS": "1.0",
        "TELEGRAM_RECLAIM_IDLE_SECONDS": "5",
        "TELEGRAM_TYPING_INTERVAL_SECONDS": "4",
        **extra,
    }


def start_bot(workdir: Path, emulator: TelegramEmulator, env: dict[str, str]) -> BotProcess:
    """Start `python -m telegram_bot` and wait until it polls (or has set its webhook)."""
    mode = env.get("TELEGRAM_MODE", "polling")
    before = len(emulator.calls_of("getUpdates" if mode == "polling" else "setWebhook"))
    process = ServiceProcess(
        ["-m", "telegram_bot"], env=env, log_path=workdir / f"bot-{time.time_ns()}.log", cwd=workdir
    )
    bot = BotProcess(
        process=process, emulator=emulator, redis_url=env["REDIS_URL"], webhook_url=env.get("TELEGRAM_WEBHOOK_URL", "")
    )

    deadline = time.monotonic() + 60
    while len(emulator.calls_of("getUpdates" if mode == "polling" else "setWebhook")) <= before:
        if not process.alive():
            raise RuntimeError(f"the bot exited at start:\n{process.log()[-3000:]}")
        if time.monotonic() > deadline:
            process.stop()
            raise TimeoutError(f"the bot did not start within 60 s:\n{process.log()[-3000:]}")
        time.sleep(0.1)
    return bot
