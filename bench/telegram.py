"""`python -m bench.telegram`: what the Telegram bot adds to an answer's latency, and split pacing.

Runs the real gateway + worker (the worker's LLM is the scripted OpenAI-compatible server, so the
model's own time is ~0 and what is left is Parley's path), the real bot process in polling mode and
the Bot API emulator. For N customers it measures the time from the update being queued at
"Telegram" to the answer being recorded there, and for one 10,000-character answer the time until
its last part arrives. Needs a Redis at BENCH_REDIS_URL (default redis://127.0.0.1:6379/5; the
database is flushed).
"""

from __future__ import annotations

import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from parley_testkit.fake_llm import FakeLLM, Rule
from parley_testkit.servers import wait_until
from parley_testkit.stack import start_stack
from parley_testkit.telegram_bot import bot_env, start_bot
from parley_testkit.telegram_emulator import TelegramEmulator

REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")
CUSTOMERS = int(os.environ.get("BENCH_CUSTOMERS", "30"))


def main() -> None:
    fake = FakeLLM(default_answer="Thanks! We deliver across the UAE in 1-3 working days.").start()
    emulator = TelegramEmulator().start()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        stack = start_stack(
            name="bench-telegram",
            workdir=workdir,
            database_url=f"sqlite:///{workdir / 'parley.db'}",
            redis_url=REDIS,
            worker_env={"LLM_PROVIDER": "openai", "OPENAI_BASE_URL": fake.url, "OPENAI_API_KEY": "sk-bench"},
        )
        bot = None
        try:
            stack.start_worker()
            stack.wait_ready()
            bot = start_bot(workdir, emulator, bot_env(stack_url=stack.url, redis=REDIS, emulator=emulator))
            # Warm-up: first answer loads lazily initialised parts.
            emulator.send_text(1, "warm up")
            bot.wait_answer(1)

            latencies = []
            for chat in range(100, 100 + CUSTOMERS):
                started = time.perf_counter()
                emulator.send_text(chat, f"Do you deliver to Al Ain? ({chat})")

                def arrived(chat_id: int = chat) -> bool:
                    return bool(emulator.texts(chat_id))

                wait_until(arrived, timeout=60, what="answer", interval=0.005)
                latencies.append((time.perf_counter() - started) * 1000)

            paragraphs = [
                f"Paragraph {p}. " + "Returns are accepted within 30 days of delivery. " * 11 for p in range(18)
            ]
            fake.add(Rule(when="long", answer="\n\n".join(paragraphs)))
            started = time.perf_counter()
            emulator.send_text(99, "long answer please")
            wait_until(lambda: len(emulator.texts(99)) >= 3, timeout=120, what="split answer", interval=0.01)
            split_s = time.perf_counter() - started
            parts = emulator.messages(99)
        finally:
            if bot is not None:
                bot.stop()
            stack.close()
            emulator.stop()
            fake.stop()

    p99 = statistics.quantiles(latencies, n=100, method="inclusive")[98]
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print("| path (scripted LLM, polling bot, loopback emulator) | n | p50 ms | p99 ms | max ms |")
    print("| --- | --- | --- | --- | --- |")
    print(
        f"| update queued → answer in chat, one customer at a time | {len(latencies)} "
        f"| {statistics.median(latencies):.0f} | {p99:.0f} | {max(latencies):.0f} |"
    )
    total = sum(len(p.visible) for p in parts)
    print(f"split answer: {total} characters in {len(parts)} parts, last part after {split_s:.1f} s")


if __name__ == "__main__":
    main()
