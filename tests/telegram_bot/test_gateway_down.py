"""Gateway unreachable: the customer hears "I'll answer as soon as I can"; the message is kept in
Redis and retried with backoff until the gateway accepts it, then answered."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from gateway.app import create_app
from parley_testkit.fake_llm import FakeLLM, Rule
from parley_testkit.servers import UvicornThread
from parley_testkit.stack import Stack
from parley_testkit.telegram_bot import bot_env, start_bot
from parley_testkit.telegram_emulator import TelegramEmulator
from tests.support import redis_dbs as dbs
from tests.support.databases import redis_url
from tests.support.telegram import new_chat_id


def test_a_message_sent_while_the_gateway_is_down_is_answered_later(
    tg_stack: Stack, emulator: TelegramEmulator, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    fake_llm.add(Rule(when="layaway", answer="Yes, layaway is possible for 30 days."))
    bot = start_bot(
        tmp_path,
        emulator,
        bot_env(stack_url=tg_stack.url, redis=redis_url(dbs.TELEGRAM), emulator=emulator, RETRY_MAX_SECONDS="4"),
    )
    port = tg_stack.gateway.port
    tg_stack.gateway.stop()
    try:
        chat = new_chat_id()
        asked = emulator.send_text(chat, "Can I pay by layaway?")
        [notice] = bot.wait_answer(chat)
        assert notice == "Thanks for your message! I'll answer as soon as I can."
        assert emulator.messages(chat)[0].reply_to_message_id == asked["message"]["message_id"]
    finally:
        tg_stack.gateway = UvicornThread(create_app(tg_stack.settings), port=port).start()
    try:
        texts = bot.wait_answer(chat, count=2)
        bot.wait_settled()
        assert texts == [notice, "Yes, layaway is possible for 30 days."]
        key = f"telegram:{emulator.bot_id}:{chat}:{asked['message']['message_id']}"
        with sqlite3.connect(tg_stack.settings.database_url.removeprefix("sqlite:///")) as connection:
            assert connection.execute("SELECT count(*) FROM task WHERE idempotency_key = ?", (key,)).fetchone() == (1,)
    finally:
        bot.stop()
