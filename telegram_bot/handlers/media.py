"""What the bot cannot read yet: a short polite reply. Voice notes are transcribed when configured."""

from __future__ import annotations

import io
import logging

from aiogram import Bot, F, Router
from aiogram.types import Message

from telegram_bot import texts
from telegram_bot.handlers.messages import submit_text
from telegram_bot.speech import Transcriber, TranscriptionFailed
from telegram_bot.store import Store
from telegram_bot.submit import Submitter

log = logging.getLogger(__name__)

router = Router(name="media")


@router.message(F.voice)
async def on_voice(
    message: Message, bot: Bot, store: Store, submitter: Submitter, transcriber: Transcriber | None
) -> None:
    if transcriber is None:
        await message.reply(texts.VOICE_UNSUPPORTED)
        return
    assert message.voice is not None
    try:
        audio = io.BytesIO()
        await bot.download(message.voice, destination=audio)
        text = await transcriber.transcribe(audio.getvalue())
    except (TranscriptionFailed, Exception) as exc:  # download or transcription: tell the customer
        log.warning("voice note not transcribed: %s", exc)
        await message.reply(texts.VOICE_FAILED)
        return
    await submit_text(message, text, bot=bot, store=store, submitter=submitter)


UNREADABLE = (
    F.sticker
    | F.photo
    | F.document
    | F.location
    | F.venue
    | F.video
    | F.video_note
    | F.animation
    | F.audio
    | F.contact
    | F.poll
    | F.dice
)


@router.message(UNREADABLE)
async def on_other(message: Message, transcriber: Transcriber | None) -> None:
    """Stickers, photos, documents, locations, contacts, …"""
    await message.reply(texts.UNSUPPORTED.format(voice=" and voice notes" if transcriber else ""))
