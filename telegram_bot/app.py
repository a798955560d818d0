"""Building the bot from settings and running it: polling or webhook, plus reply delivery."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from pydantic import ValidationError
from redis.asyncio import Redis

from telegram_bot.delivery import ReplyDelivery
from telegram_bot.gateway_client import GatewayClient
from telegram_bot.handlers import build_router
from telegram_bot.middlewares import RepeatedUpdateMiddleware, ThrottlingMiddleware
from telegram_bot.sender import Sender
from telegram_bot.settings import BotSettings
from telegram_bot.speech import Transcriber
from telegram_bot.store import Store
from telegram_bot.submit import Submitter
from telegram_bot.typing_indicator import TypingIndicator

log = logging.getLogger(__name__)


def make_bot(settings: BotSettings) -> Bot:
    if settings.telegram_api_base:
        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_base))
    else:
        session = AiohttpSession()
    return Bot(settings.bot_token.get_secret_value(), session=session)


class ReliableRequestHandler(SimpleRequestHandler):
    """Handles each update before answering Telegram (so a crash means a re-send, not a loss), and
    answers 200 to an update it cannot read: re-sending a malformed update would never help."""

    async def _handle_request(self, bot: Bot, request: web.Request) -> web.Response:
        try:
            return await super()._handle_request(bot, request)
        except (ValidationError, ValueError) as exc:
            log.warning("unreadable webhook update dropped: %s", type(exc).__name__)
            return web.json_response({})


class BotApp:
    """Everything one bot process owns; dependencies reach handlers by parameter name."""

    def __init__(self, settings: BotSettings) -> None:
        self.settings = settings
        self.bot = make_bot(settings)
        self.redis = Redis.from_url(settings.redis_url, socket_timeout=10, socket_connect_timeout=5)
        self.store = Store(self.redis, self.bot.id)
        self.gateway = GatewayClient(
            base_url=settings.gateway_url,
            token=settings.gateway_token.get_secret_value(),
            timeout=settings.gateway_timeout_seconds,
        )
        self.transcriber = (
            Transcriber(
                base_url=settings.stt_base_url,
                api_key=settings.stt_api_key.get_secret_value(),
                model=settings.stt_model,
            )
            if settings.stt_base_url
            else None
        )
        self.sender = Sender(self.bot, max_attempts=settings.telegram_max_attempts)
        self.typing = TypingIndicator(
            self.bot, self.store, interval=settings.typing_interval_seconds, max_seconds=settings.typing_max_seconds
        )
        self.submitter = Submitter(
            gateway=self.gateway,
            store=self.store,
            sender=self.sender,
            typing=self.typing,
            retry_max_seconds=settings.retry_max_seconds,
            attempt_timeout=settings.gateway_timeout_seconds,
        )
        # The stream reader blocks for up to 2 s per read: its own connection, with a longer timeout.
        self.stream_redis = Redis.from_url(settings.redis_url, socket_timeout=30, socket_connect_timeout=5)
        self.delivery = ReplyDelivery(
            redis=self.stream_redis,
            store=self.store,
            sender=self.sender,
            typing=self.typing,
            consumer=settings.consumer_name,
            split_pause_seconds=settings.split_pause_seconds,
            reclaim_idle_seconds=settings.reclaim_idle_seconds,
        )
        self.dispatcher = Dispatcher(
            settings=settings,
            gateway=self.gateway,
            store=self.store,
            sender=self.sender,
            submitter=self.submitter,
            transcriber=self.transcriber,
        )
        self.dispatcher.include_router(build_router())
        self.dispatcher.update.outer_middleware(RepeatedUpdateMiddleware(self.store))
        self.dispatcher.message.middleware(
            ThrottlingMiddleware(burst=settings.throttle_burst, rate=settings.throttle_rate)
        )

    async def run(self) -> None:
        me = await self.sender.call(self.bot.get_me)
        log.info("bot @%s (id %d) starting in %s mode", me.username, me.id, self.settings.mode)
        delivery = asyncio.create_task(self.delivery.run(), name="reply-delivery")
        parked = self.submitter.parked_loop()
        parked.start()
        try:
            if self.settings.mode == "webhook":
                await self._run_webhook()
            else:
                await self.bot.delete_webhook(drop_pending_updates=False)
                await self.dispatcher.start_polling(
                    self.bot, allowed_updates=self.dispatcher.resolve_used_update_types(), close_bot_session=False
                )
        finally:
            await self._stop_delivery(delivery)
            delivery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await delivery
            await parked.stop()
            await self.close()

    async def _stop_delivery(self, task: asyncio.Task[None]) -> None:
        """A reply being sent gets SHUTDOWN_TIMEOUT_SECONDS to finish: cancelling it between Telegram
        accepting a part and Redis recording it would send that part twice after the restart."""
        self.delivery.stop()
        if self.delivery.busy:
            await asyncio.wait([task], timeout=self.settings.shutdown_timeout_seconds)

    async def _run_webhook(self) -> None:
        app = web.Application()
        # Answer Telegram only after the update is handled (posted to the gateway or parked in
        # Redis): if the bot dies first, Telegram re-sends the update instead of it being lost.
        ReliableRequestHandler(
            dispatcher=self.dispatcher,
            bot=self.bot,
            secret_token=self.settings.webhook_secret.get_secret_value(),
            handle_in_background=False,
        ).register(app, path=self.settings.webhook_path)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.settings.webhook_host, self.settings.webhook_port)
        await site.start()
        await self.sender.call(
            lambda: self.bot.set_webhook(
                self.settings.webhook_url,
                secret_token=self.settings.webhook_secret.get_secret_value(),
                allowed_updates=self.dispatcher.resolve_used_update_types(),
                drop_pending_updates=False,
            )
        )
        log.info(
            "webhook listening on %s:%d%s",
            self.settings.webhook_host,
            self.settings.webhook_port,
            self.settings.webhook_path,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            await runner.cleanup()

    async def close(self) -> None:
        await self.typing.close()
        await self.gateway.aclose()
        if self.transcriber is not None:
            await self.transcriber.aclose()
        await self.bot.session.close()
        await self.redis.aclose()
        await self.stream_redis.aclose()
