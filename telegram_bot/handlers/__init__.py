"""The bot's routers, one per feature, joined in one place."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType

from telegram_bot.handlers import commands, feedback, media, messages


def build_router() -> Router:
    root = Router(name="parley")
    # Customers write to the bot one to one; messages in groups it was added to are ignored.
    root.message.filter(F.chat.type == ChatType.PRIVATE)
    # Order matters: commands before free text; media and text never overlap.
    root.include_routers(commands.router, feedback.router, media.router, messages.router)
    return root
