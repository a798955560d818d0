"""/start, /help, /reset, /language."""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandStart
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from telegram_bot import texts
from telegram_bot.callbacks import LanguageData
from telegram_bot.gateway_client import GatewayClient, GatewayRejected, GatewayUnavailable
from telegram_bot.store import Store

log = logging.getLogger(__name__)

router = Router(name="commands")


@router.message(CommandStart())
async def start(message: Message, gateway: GatewayClient) -> None:
    try:
        settings = await gateway.channel_settings()
        greeting = settings.greeting or texts.DEFAULT_GREETING.format(business=settings.business_name)
    except (GatewayUnavailable, GatewayRejected) as exc:
        log.warning("could not read the greeting: %s", exc)
        greeting = texts.DEFAULT_GREETING.format(business="our team")
    await message.answer(greeting)


@router.message(Command("help"))
async def help_(message: Message) -> None:
    await message.answer(texts.HELP)


@router.message(Command("reset"))
async def reset(message: Message, gateway: GatewayClient) -> None:
    try:
        await gateway.reset(chat_id=str(message.chat.id))
    except (GatewayUnavailable, GatewayRejected) as exc:
        log.warning("reset failed: %s", exc)
        await message.answer(texts.UNAVAILABLE_SHORT)
        return
    await message.answer(texts.RESET_DONE)


@router.message(Command("language"))
async def language(message: Message) -> None:
    buttons = [
        InlineKeyboardButton(text=name, callback_data=LanguageData(code=code).pack())
        for code, name in texts.LANGUAGES.items()
    ]
    rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    await message.answer(texts.LANGUAGE_PROMPT, reply_markup=InlineKeyboardMarkup(inline_keyboard=rows))


@router.callback_query(LanguageData.filter(F.code.in_(texts.LANGUAGES)))
async def language_chosen(query: CallbackQuery, callback_data: LanguageData, store: Store, bot: Bot) -> None:
    chat_id = query.message.chat.id if query.message else query.from_user.id
    await store.set_language(chat_id, callback_data.code)
    confirmation = texts.LANGUAGE_SET.format(name=texts.LANGUAGES[callback_data.code])
    await query.answer(confirmation)
    await bot.send_message(chat_id, confirmation)
