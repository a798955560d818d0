"""`python -m telegram_bot`: run the Telegram bot (settings from the environment / .env)."""

from __future__ import annotations

import asyncio
import os

from parley_contract.logging import configure_logging
from parley_contract.settings import settings_or_exit
from telegram_bot.app import BotApp
from telegram_bot.settings import BotSettings


def main() -> None:
    settings = settings_or_exit(BotSettings)
    configure_logging(
        json_lines=settings.log_json,
        log_content=settings.log_content,
        level=os.environ.get("LOG_LEVEL", "INFO").upper(),
    )
    asyncio.run(BotApp(settings).run())


if __name__ == "__main__":
    main()
