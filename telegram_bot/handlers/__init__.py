"""The bot's routers, one per feature, joined in one place."""

from __future__ import annotations

from aiogram import Router

from telegram_bot.handlers import commands, feedback, media, messages


def build_router() -> Router:
    root = Router(name="parley")
    # Order matters: commands before free text; media and text never overlap.
    root.include_routers(commands.router, feedback.router, media.router, messages.router)
    return root
