"""A customer writes to the polling bot; the real gateway and worker answer; the emulator records."""

from __future__ import annotations

import itertools
import json
import re
import sqlite3
from pathlib import Path

from parley_testkit.fake_llm import FakeLLM, Rule
from parley_testkit.servers import wait_until
from parley_testkit.stack import Stack
from parley_testkit.telegram_bot import BotProcess, bot_env, start_bot
from parley_testkit.telegram_emulator import TelegramEmulator
from telegram_bot.texts import THROTTLED
from tests.support import redis_dbs as dbs
from tests.support.databases import redis_url
from tests.support.telegram import new_chat_id


def test_a_customer_message_gets_exactly_one_answer_as_a_reply(
    bot: BotProcess, emulator: TelegramEmulator, fake_llm: FakeLLM
) -> None:
    fake_llm.add(Rule(when="opening hours", answer="We are open **every day** from 9:00 to 21:00."))
    chat = new_chat_id()
    asked = emulator.send_text(chat, "What are your opening hours?")
    bot.wait_answer(chat)
    bot.wait_settled()
    [answer] = emulator.messages(chat)
    assert answer.visible == "We are open every day from 9:00 to 21:00."
    assert answer.parse_mode == "HTML" and "<b>every day</b>" in answer.text
    assert answer.reply_to_message_id == asked["message"]["message_id"]
    buttons = [b["callback_data"] for row in answer.reply_markup["inline_keyboard"] for b in row]  # type: ignore[index]
    assert [b.rsplit(":", 1)[1] for b in buttons] == ["up", "down"]
    assert "typing" in emulator.chat_actions(chat)


def _db_rows(stack: Stack, sql: str, *params: object) -> list[tuple[object, ...]]:
    """Rows from the stack's SQLite database (what the gateway stored)."""
    database = stack.settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(database) as connection:
        return list(connection.execute(sql, params).fetchall())


def test_the_same_message_delivered_twice_is_answered_once(
    bot: BotProcess, emulator: TelegramEmulator, fake_llm: FakeLLM, tg_stack: Stack
) -> None:
    fake_llm.add(Rule(when="parking", answer="Yes, there is free parking behind the shop."))
    chat = new_chat_id()
    first = emulator.send_text(chat, "Is there parking?")
    # Telegram re-sends the same message (e.g. the bot restarted before confirming the update).
    emulator.push_update({"message": first["message"]})
    emulator.push_update({"message": first["message"]}, update_id=first["update_id"])
    bot.wait_answer(chat)
    bot.wait_settled()
    # A later message answered means the duplicates were handled before it.
    emulator.send_text(chat, "Thanks!")
    bot.wait_answer(chat, count=2)
    bot.wait_settled()
    texts = emulator.texts(chat)
    assert texts.count("Yes, there is free parking behind the shop.") == 1, texts
    key = f"telegram:{emulator.bot_id}:{chat}:{first['message']['message_id']}"
    assert _db_rows(tg_stack, "SELECT count(*) FROM task WHERE idempotency_key = ?", key) == [(1,)]


def test_a_long_answer_is_split_in_order_within_the_limit(
    bot: BotProcess, emulator: TelegramEmulator, fake_llm: FakeLLM
) -> None:
    paragraphs = [
        f"Paragraph {p}. " + " ".join(f"Sentence {p}.{s} explains the return policy in detail." for s in range(12))
        for p in range(18)
    ]
    answer = "\n\n".join(paragraphs)
    assert len(answer) > 10_000
    fake_llm.add(Rule(when="everything about returns", answer=answer))
    chat = new_chat_id()
    asked = emulator.send_text(chat, "Tell me everything about returns")
    bot.wait_answer(chat, count=3)
    bot.wait_settled()
    parts = emulator.messages(chat)
    assert len(parts) == -(-len(answer) // 4096) or len(parts) == -(-len(answer) // 4096) + 1
    assert all(len(p.visible) <= 4096 for p in parts)
    assert not [r for r in emulator.rejected if r[1].get("chat_id") == str(chat)]
    # Split only at paragraph boundaries here (each paragraph is short), and nothing lost or reordered.
    assert "\n\n".join(p.visible for p in parts) == answer
    assert parts[0].reply_to_message_id == asked["message"]["message_id"]
    assert all(p.reply_to_message_id is None for p in parts[1:])
    assert [p.reply_markup is not None for p in parts] == [False] * (len(parts) - 1) + [True]
    # Paced: about one message per second per chat.
    gaps = [b.at - a.at for a, b in itertools.pairwise(parts)]
    assert all(gap >= 0.9 for gap in gaps), gaps


def test_an_8000_character_answer_arrives_whole_each_part_accepted_as_html_with_its_formatting(
    bot: BotProcess, emulator: TelegramEmulator, fake_llm: FakeLLM
) -> None:
    # Links make the HTML of each part far longer than the text Telegram counts; a bold span the model
    # wrote in HTML runs across paragraphs, so the cut between parts falls inside it.
    links = " ".join(f"[Sofa {i}](https://duneandoak.ae/sofas/{i}?colour=sand&size=large)" for i in range(120))
    bold = "\n\n".join(
        " ".join(f"Sofa {p}.{s} has an oak frame & a 10-year warranty." for s in range(8)) for p in range(18)
    )
    answer = f"{links}\n\n<b>{bold}</b>\n\nAsk me about delivery too."
    fake_llm.add(Rule(when="all your sofas", answer=answer))
    chat = new_chat_id()
    emulator.send_text(chat, "Tell me about all your sofas")
    bot.wait_answer(chat, count=2)
    bot.wait_settled()
    parts = emulator.messages(chat)
    assert 7_500 < sum(len(p.visible) for p in parts) < 9_000
    assert not [r for r in emulator.rejected if r[1].get("chat_id") == str(chat)]  # every part accepted
    assert [p.parse_mode for p in parts] == ["HTML"] * len(parts) and len(parts) == 2
    assert all(len(p.visible) <= 4096 for p in parts) and len(parts[0].text) > 4096
    words = " ".join(" ".join(p.visible for p in parts).split())
    assert words.startswith("Sofa 0 Sofa 1 ") and words.endswith("Ask me about delivery too.")
    bold_text = " ".join(" ".join(re.findall(r"<b>(.*?)</b>", p.text, re.DOTALL)) for p in parts)
    assert all(f"Sofa {p}.{s} has an oak frame & a 10-year warranty." in words for p in range(18) for s in range(8))
    assert all(f"Sofa {p}.{s} has" in bold_text for p in range(18) for s in range(8))
    assert "delivered (2 part(s), status done)" in bot.log()


def test_an_injected_429_is_waited_out_and_the_answer_delivered_once(
    bot: BotProcess, emulator: TelegramEmulator, fake_llm: FakeLLM
) -> None:
    fake_llm.add(Rule(when="gift wrapping", answer="Gift wrapping costs AED 10."))
    chat = new_chat_id()
    emulator.fail_next("sendMessage", status=429, retry_after=2)
    emulator.send_text(chat, "Do you offer gift wrapping?")
    bot.wait_answer(chat)
    bot.wait_settled()
    assert emulator.texts(chat) == ["Gift wrapping costs AED 10."]
    refused = [r for r in emulator.rejected if r[0] == "sendMessage" and r[1].get("chat_id") == str(chat)]
    assert [r[2] for r in refused] == [429]
    attempts = [
        at for method, params, at in emulator.calls if method == "sendMessage" and params.get("chat_id") == str(chat)
    ]
    assert len(attempts) == 2 and attempts[1] - attempts[0] >= 2.0  # retry_after honoured


def test_a_telegram_5xx_is_retried_and_the_answer_delivered_once(
    bot: BotProcess, emulator: TelegramEmulator, fake_llm: FakeLLM
) -> None:
    fake_llm.add(Rule(when="loyalty card", answer="Our loyalty card gives 5% back."))
    chat = new_chat_id()
    emulator.fail_next("sendMessage", status=502, times=2)
    emulator.send_text(chat, "Do you have a loyalty card?")
    bot.wait_answer(chat)
    bot.wait_settled()
    assert emulator.texts(chat) == ["Our loyalty card gives 5% back."]
    refused = [r[2] for r in emulator.rejected if r[0] == "sendMessage" and r[1].get("chat_id") == str(chat)]
    assert refused == [502, 502]


def test_malformed_html_from_the_model_is_delivered_as_plain_text(
    bot: BotProcess, emulator: TelegramEmulator, fake_llm: FakeLLM
) -> None:
    fake_llm.add(Rule(when="delivery fee", answer="<b>Delivery: <i>AED 15</b></i> & free over AED 200 <3"))
    chat = new_chat_id()
    emulator.send_text(chat, "What is the delivery fee?")
    bot.wait_answer(chat)
    bot.wait_settled()
    [message] = emulator.messages(chat)
    assert message.parse_mode is None
    assert message.text == "Delivery: AED 15 & free over AED 200 <3"
    refused = [r for r in emulator.rejected if r[0] == "sendMessage" and r[1].get("chat_id") == str(chat)]
    assert len(refused) == 1 and refused[0][2] == 400 and "can't parse entities" in refused[0][3]


def test_a_failed_task_reaches_the_customer_as_an_apology(
    bot: BotProcess, emulator: TelegramEmulator, fake_llm: FakeLLM
) -> None:
    fake_llm.add(Rule(when="franchise", status=500))  # every attempt, every retry
    chat = new_chat_id()
    emulator.send_text(chat, "Can I buy a franchise?")
    bot.wait_answer(chat)
    bot.wait_settled()
    [message] = emulator.messages(chat)
    assert message.visible.startswith("Sorry") and message.reply_markup is None


def test_a_sticker_and_a_photo_get_the_polite_reply_and_make_no_task(
    bot: BotProcess, emulator: TelegramEmulator, tg_stack: Stack
) -> None:
    chat = new_chat_id()
    emulator.send_sticker(chat)
    emulator.customer_message(chat, photo=[{"file_id": "p1", "file_unique_id": "pu1", "width": 90, "height": 90}])
    emulator.customer_message(chat, location={"latitude": 25.2, "longitude": 55.3})
    bot.wait_answer(chat, count=3)
    bot.wait_settled()
    assert all("I can only read text messages" in text for text in emulator.texts(chat))
    assert _db_rows(tg_stack, "SELECT count(*) FROM conversation WHERE chat_id = ?", str(chat)) == [(0,)]


def test_voice_without_speech_to_text_gets_a_polite_reply(bot: BotProcess, emulator: TelegramEmulator) -> None:
    chat = new_chat_id()
    emulator.customer_message(chat, voice={"file_id": "v1", "file_unique_id": "vu1", "duration": 3})
    [reply] = bot.wait_answer(chat)
    assert "voice" in reply


def test_feedback_buttons_store_the_rating(
    bot: BotProcess, emulator: TelegramEmulator, fake_llm: FakeLLM, tg_stack: Stack
) -> None:
    fake_llm.add(Rule(when="warranty", answer="Every appliance has a two-year warranty."))
    chat = new_chat_id()
    emulator.send_text(chat, "Is there a warranty?")
    bot.wait_answer(chat)
    [answer] = emulator.messages(chat)
    assert answer.reply_markup is not None
    up, down = (b["callback_data"] for b in answer.reply_markup["inline_keyboard"][0])
    task_id = up.split(":")[1]
    for data, stored in ((down, "down"), (up, "up")):  # a second press replaces the first rating
        pressed = emulator.press_button(chat, answer.message_id, data)["callback_query"]["id"]
        wait_until(lambda: emulator.callback_answer(pressed) is not None, timeout=30, what="callback answered")  # noqa: B023
        assert emulator.callback_answer(pressed) == {
            "callback_query_id": pressed,
            "text": "Thank you for your feedback!",
        }
        assert _db_rows(tg_stack, "SELECT rating FROM feedback WHERE task_id = ?", task_id) == [(stored,)]


def test_start_greets_with_the_tenant_greeting_and_help_lists_the_commands(
    bot: BotProcess, emulator: TelegramEmulator, tg_stack: Stack
) -> None:
    settings = {"business_name": "Dune Outfitters", "greeting": "Marhaba! Dune Outfitters here — how can we help?"}
    database = tg_stack.settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE tenant SET settings = ? WHERE id = 'default'", (json.dumps(settings),))
    chat = new_chat_id()
    emulator.send_text(chat, "/start")
    bot.wait_answer(chat)
    emulator.send_text(chat, "/help")
    texts = bot.wait_answer(chat, count=2)
    assert texts[0] == "Marhaba! Dune Outfitters here — how can we help?"
    assert "/reset" in texts[1] and "/language" in texts[1]


def test_reset_starts_a_new_conversation(
    bot: BotProcess, emulator: TelegramEmulator, fake_llm: FakeLLM, tg_stack: Stack
) -> None:
    fake_llm.add(Rule(when="size 42", answer="Size 42 is in stock."))
    fake_llm.add(Rule(when="colours", answer="Black and sand."))
    chat = new_chat_id()
    emulator.send_text(chat, "Do you have size 42?")
    bot.wait_answer(chat)
    emulator.send_text(chat, "/reset")
    bot.wait_answer(chat, count=2)
    emulator.send_text(chat, "Which colours?")
    texts = bot.wait_answer(chat, count=3)
    assert texts == ["Size 42 is in stock.", "Done — let's start fresh. What can I help you with?", "Black and sand."]
    rows = _db_rows(tg_stack, "SELECT is_open FROM conversation WHERE chat_id = ? ORDER BY created_at", str(chat))
    assert rows == [(0,), (1,)]
    # The answer after /reset was made without the earlier turns.
    request = next(r for r in reversed(fake_llm.requests) if r["messages"][-1]["content"] == "Which colours?")
    assert not any("size 42" in m["content"] for m in request["messages"][1:])


def test_language_choice_is_sent_with_the_next_message(
    bot: BotProcess, emulator: TelegramEmulator, tg_stack: Stack
) -> None:
    chat = new_chat_id()
    emulator.send_text(chat, "/language")
    [prompt] = bot.wait_answer(chat)
    menu = emulator.messages(chat)[0]
    assert prompt == "Which language should I answer in?" and menu.reply_markup is not None
    buttons = {b["text"]: b["callback_data"] for row in menu.reply_markup["inline_keyboard"] for b in row}
    emulator.press_button(chat, menu.message_id, buttons["Deutsch"])
    bot.wait_answer(chat, count=2)
    emulator.send_text(chat, "Hallo, habt ihr geöffnet?", language="en")
    bot.wait_answer(chat, count=3)
    assert _db_rows(tg_stack, "SELECT language FROM contact WHERE external_id = ?", str(chat)) == [("de",)]


def test_a_customer_writing_too_fast_is_throttled_politely(
    no_polling_bot: None, tg_stack: Stack, emulator: TelegramEmulator, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    fake_llm.add(Rule(when="flood", answer="Answered."))
    env = bot_env(
        stack_url=tg_stack.url,
        redis=redis_url(dbs.TELEGRAM),
        emulator=emulator,
        THROTTLE_BURST="2",
        THROTTLE_RATE="0.01",
    )
    throttled_bot = start_bot(tmp_path, emulator, env)
    try:
        chat = new_chat_id()
        for n in range(4):
            emulator.send_text(chat, f"flood {n}")
        throttled_bot.wait_answer(chat, count=3)
        throttled_bot.wait_settled()
        texts = emulator.texts(chat)
        assert sorted(texts) == sorted(["Answered.", "Answered.", THROTTLED]), texts
        key = f"telegram:{emulator.bot_id}:{chat}:%"
        assert _db_rows(tg_stack, "SELECT count(*) FROM task WHERE idempotency_key LIKE ?", key) == [(2,)]
    finally:
        throttled_bot.stop()
