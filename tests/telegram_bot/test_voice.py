"""Voice notes with a speech-to-text provider configured: downloaded through getFile, transcribed,
answered like text."""

from __future__ import annotations

from pathlib import Path

from parley_testkit.fake_llm import FakeLLM, Rule
from parley_testkit.stack import Stack
from parley_testkit.telegram_bot import bot_env, start_bot
from parley_testkit.telegram_emulator import TelegramEmulator
from tests.support import redis_dbs as dbs
from tests.support.databases import redis_url
from tests.support.telegram import new_chat_id

OGG = b"OggS\x00\x02" + bytes(range(256)) * 8


def test_a_voice_note_is_transcribed_and_answered(
    tg_stack: Stack, emulator: TelegramEmulator, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    fake_llm.transcripts[OGG] = "Do you sell hiking boots?"
    fake_llm.add(Rule(when="hiking boots", answer="Yes, from AED 399."))
    emulator.add_file("voice-file-1", OGG, "voice/file_1.oga")
    env = bot_env(stack_url=tg_stack.url, redis=redis_url(dbs.TELEGRAM), emulator=emulator, STT_BASE_URL=fake_llm.url)
    bot = start_bot(tmp_path, emulator, env)
    try:
        chat = new_chat_id()
        emulator.customer_message(
            chat, voice={"file_id": "voice-file-1", "file_unique_id": "vu-1", "duration": 2, "mime_type": "audio/ogg"}
        )
        bot.wait_answer(chat)
        bot.wait_settled()
        assert emulator.texts(chat) == ["Yes, from AED 399."]
        assert emulator.calls_of("getFile")[-1]["file_id"] == "voice-file-1"
        # An undecodable voice note: the customer is asked to type instead.
        emulator.add_file("voice-file-2", b"not audio", "voice/file_2.oga")
        emulator.customer_message(chat, voice={"file_id": "voice-file-2", "file_unique_id": "vu-2", "duration": 1})
        texts = bot.wait_answer(chat, count=2)
        assert texts[1] == "Sorry, I couldn't make out that voice note — could you type your question?"
    finally:
        bot.stop()
