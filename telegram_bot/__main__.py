"""`python -m telegram_bot`: run the Telegram bot (settings from the environment / .env)."""

from __future__ import annotations

import asyncio
import logging
import os

from telegram_bot.app import BotApp
from telegram_bot.settings import BotSettings


def main() -> None:
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO").upper(),
        format='{"ts":"%(asctime)s","level":"%(levelname)s","logger":"%(name)s","msg":"%(message)s"}',
    )
    settings = BotSettings()
    asyncio.run(BotApp(settings).run())


if __name__ == "__main__":
    main()
