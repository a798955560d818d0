"""`python -m whatsapp_adapter [serve | register-webhook | show-webhook | channels | failures]`."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from types import FrameType
from typing import Any

import uvicorn
from redis.asyncio import Redis

from parley_contract.logging import configure_logging
from parley_contract.settings import settings_or_exit
from whatsapp_adapter import keys
from whatsapp_adapter.app import create_app
from whatsapp_adapter.settings import WhatsAppSettings
from whatsapp_adapter.wazzup_client import WazzupClient, WazzupError


async def _with_client(settings: WhatsAppSettings, call: str, *args: Any) -> Any:
    client = WazzupClient(settings)
    try:
        return await getattr(client, call)(*args)
    finally:
        await client.aclose()


async def _failures(settings: WhatsAppSettings, count: int) -> list[dict[str, str]]:
    redis = Redis.from_url(settings.redis_url, decode_responses=True)
    try:
        entries: Any = await redis.xrevrange(keys.FAILED_STREAM, count=count)
    finally:
        await redis.aclose()
    return [{"id": entry_id, **fields} for entry_id, fields in entries]


def _print(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


def _masked(text: str, settings: WhatsAppSettings) -> str:
    """What Wazzup holds or is sent, with our secrets replaced by their names: output lands in
    terminals, shell history and CI logs, and the webhook secret alone lets anyone post as Wazzup."""
    for secret, name in (
        (settings.webhook_secret, "WAZZUP_WEBHOOK_SECRET"),
        (settings.wazzup_crm_key, "WAZZUP_CRM_KEY"),
    ):
        if secret:
            text = text.replace(secret, f"<{name}>")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m whatsapp_adapter")
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="run the webhook server and the delivery loops (default)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    register = sub.add_parser("register-webhook", help="PATCH /v3/webhooks with our URL (Wazzup tests it at once)")
    register.add_argument(
        "--url", help="the full webhook URL (default: WAZZUP_PUBLIC_URL/wazzup/webhook/WAZZUP_WEBHOOK_SECRET)"
    )
    sub.add_parser("show-webhook", help="the webhook Wazzup has now (secrets masked)")
    sub.add_parser("channels", help="the account's channels and their states")
    failures = sub.add_parser("failures", help="the latest deliveries Wazzup refused")
    failures.add_argument("--count", type=int, default=20)
    args = parser.parse_args(argv)

    settings = settings_or_exit(WhatsAppSettings)
    configure_logging(json_lines=settings.log_json, log_content=settings.log_content)
    try:
        if args.command == "register-webhook":
            url = args.url or settings.webhook_url
            asyncio.run(_with_client(settings, "register_webhook", url))
            print(f"webhook registered: {_masked(url, settings)}")
        elif args.command == "show-webhook":
            print(_masked(json.dumps(asyncio.run(_with_client(settings, "get_webhook")), indent=2), settings))
        elif args.command == "channels":
            channels = asyncio.run(_with_client(settings, "list_channels"))
            for channel in channels:
                print(f"{channel.get('channelId')}  {channel.get('transport')}  {channel.get('state')}")
            if not channels:
                print("no channels")
        elif args.command == "failures":
            _print(asyncio.run(_failures(settings, args.count)))
        else:
            # uvicorn re-raises the SIGTERM it handled once it has shut down; exit 0 then, as a clean stop.
            signal.signal(signal.SIGTERM, _exit_cleanly)
            uvicorn.run(
                create_app(settings),
                host=getattr(args, "host", None) or settings.whatsapp_host,
                port=getattr(args, "port", None) or settings.whatsapp_port,
                log_level="info",
                log_config=None,  # keep the handler configure_logging installed
            )
    except (WazzupError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _exit_cleanly(_sig: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


if __name__ == "__main__":
    sys.exit(main())
