"""The bounded load run: N customer messages at a fixed rate through the real WhatsApp path.

Wazzup (the emulator, parley_testkit/wazzup_emulator.py) posts each message as a webhook to the
adapter (`python -m whatsapp_adapter serve`), which hands it to the gateway (`python -m gateway
serve`, SQLite); workers (`python -m ai_worker worker`, 2 by default) answer through a fast
OpenAI-compatible server on loopback (parley_testkit/fake_llm.py, fixed latency) and the adapter
delivers each reply back through the emulator. Every message is its own chat, so a reply maps to
exactly one message. Every `duplicate_every`-th message is delivered three times: twice at once
(concurrently) and once more a second later, as Wazzup does when it retries a webhook.

The generator is open-loop (message i is posted at i / rate seconds whatever happened before), in
its own process. Reported: messages sent, webhook deliveries, accepted (a 2xx for some delivery),
5xx and transport errors, lost (accepted, never delivered within the drain timeout), duplicated
(more than one reply delivered to a chat), p50/p99 webhook latency, the time to drain (last post →
last reply), and the gateway's own 5xx count from its /metrics.

    python -m bench.load                      # 2,000 messages at 40/s
    python -m bench.load --messages 200 --rate 40
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import re
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import redis

from bench.common import machine, percentile, start_gateway_process, workdir
from bench.scaling import ready_workers
from parley_contract.names import reply_stream
from parley_testkit.fake_llm import FakeLLM, Rule
from parley_testkit.servers import ServiceProcess, free_port, wait_until
from parley_testkit.stack import TOKENS
from parley_testkit.wazzup_emulator import WazzupEmulator

WEBHOOK_SECRET = "load-run-webhook-secret-7c1e"
ANSWER = "Yes, we deliver to all seven emirates within 3 working days."


@dataclass
class LoadReport:
    messages: int
    rate_per_s: float
    workers: int
    deliveries: int
    accepted: int
    status_5xx: int
    transport_errors: int
    other_non_2xx: int
    lost: int
    duplicated: int
    gateway_5xx: int
    gateway_tasks: int
    p50_accept_ms: float
    p99_accept_ms: float
    send_seconds: float
    #: When the last delivery was scheduled (the duplicates' retries come a second after their message).
    schedule_seconds: float
    drain_seconds: float

    def markdown(self) -> str:
        rows = [
            ("messages sent (distinct)", self.messages),
            ("webhook deliveries (with duplicates)", self.deliveries),
            ("accepted (2xx)", self.accepted),
            ("5xx", self.status_5xx),
            ("transport errors / other non-2xx", f"{self.transport_errors} / {self.other_non_2xx}"),
            ("lost (accepted, never delivered)", self.lost),
            ("duplicated (more than one reply)", self.duplicated),
            ("gateway 5xx (all callers, from /metrics)", self.gateway_5xx),
            ("tasks the gateway created", self.gateway_tasks),
            ("webhook latency p50 / p99", f"{self.p50_accept_ms:.1f} / {self.p99_accept_ms:.1f} ms"),
            ("sending took", f"{self.send_seconds:.1f} s (last delivery scheduled at {self.schedule_seconds:.1f} s)"),
            ("drain (last post → last reply)", f"{self.drain_seconds:.1f} s"),
        ]
        return "\n".join(["| figure | value |", "| --- | --- |", *(f"| {k} | {v} |" for k, v in rows)])


@dataclass(frozen=True)
class Delivery:
    at: float
    message: int
    body: bytes


def schedule(*, messages: int, rate: float, duplicate_every: int, channel_id: str) -> tuple[list[Delivery], list[str]]:
    """The deliveries in time order, and each message's chat id."""
    run = uuid.uuid4().hex[:6]
    chats = [f"9715{i:08d}" for i in range(messages)]  # a WhatsApp chatId is the phone number's digits
    deliveries: list[Delivery] = []
    for i, chat in enumerate(chats):
        body = json.dumps(
            {
                "messages": [
                    {
                        "messageId": f"load-{run}-{i}",
                        "dateTime": "2026-11-23T08:00:00.000Z",
                        "channelId": channel_id,
                        "chatType": "whatsapp",
                        "chatId": chat,
                        "type": "text",
                        "isEcho": False,
                        "contact": {"name": "Load"},
                        "status": "inbound",
                        "text": f"Do you deliver to Abu Dhabi? (message {i})",
                    }
                ]
            }
        ).encode()
        at = i / rate
        deliveries.append(Delivery(at=at, message=i, body=body))
        if duplicate_every and i % duplicate_every == duplicate_every - 1:
            deliveries.append(Delivery(at=at, message=i, body=body))  # concurrently with the first
            deliveries.append(Delivery(at=at + 1.0, message=i, body=body))  # a retry a second later
    deliveries.sort(key=lambda d: d.at)
    return deliveries, chats


async def _post_all(url: str, deliveries: list[Delivery]) -> tuple[list[tuple[int, int, float]], float]:
    """(message, status or -1 for a transport error, latency ms) per delivery; and the sending time."""
    results: list[tuple[int, int, float]] = []
    limits = httpx.Limits(max_connections=400, max_keepalive_connections=100)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def post(delivery: Delivery) -> None:
            started = time.perf_counter()
            try:
                response = await client.post(url, content=delivery.body, headers={"Content-Type": "application/json"})
                status = response.status_code
            except httpx.HTTPError:
                status = -1
            results.append((delivery.message, status, (time.perf_counter() - started) * 1000))

        began = time.perf_counter()
        pending: list[asyncio.Task[None]] = []
        for delivery in deliveries:
            delay = began + delivery.at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            pending.append(asyncio.create_task(post(delivery)))
        await asyncio.gather(*pending)
        return results, time.perf_counter() - began


def _generator(args: tuple[str, list[Delivery]]) -> tuple[list[tuple[int, int, float]], float]:
    return asyncio.run(_post_all(*args))


def _gateway_figures(url: str) -> tuple[int, int]:
    """(5xx responses, messages accepted) from the gateway's Prometheus metrics."""
    text = httpx.get(f"{url}/metrics", timeout=10).text
    errors = sum(
        float(m.group(2))
        for m in re.finditer(r'^http_requests_total\{[^}]*status="(5\d\d)"[^}]*\} ([0-9.e+]+)$', text, re.MULTILINE)
    )
    accepted = sum(
        float(m.group(1)) for m in re.finditer(r"^parley_messages_accepted_total\{[^}]*\} ([0-9.e+]+)$", text, re.M)
    )
    return int(errors), int(accepted)


def replies_settled(redis_url: str) -> bool:
    """The adapter's consumer group has read every entry of the WhatsApp reply stream and acknowledged it."""
    client = redis.Redis.from_url(redis_url)
    try:
        groups: Any = client.xinfo_groups(reply_stream("whatsapp"))
    finally:
        client.close()
    return bool(groups) and all(g["pending"] == 0 and g["lag"] == 0 for g in groups)


def run_load(
    *,
    directory: Path,
    redis_url: str,
    messages: int = 2000,
    rate: float = 40.0,
    workers: int = 2,
    duplicate_every: int = 20,
    llm_latency_seconds: float = 0.02,
    drain_timeout_seconds: float = 900.0,
) -> LoadReport:
    """Start the whole path, run the load, wait for every reply (or the timeout) and count."""
    redis.Redis.from_url(redis_url).flushdb()
    fake = FakeLLM(default_answer=ANSWER).start()
    fake.add(Rule(when="", answer=ANSWER, delay_seconds=llm_latency_seconds))
    # Echoes of our own sends cost the adapter a webhook each and carry nothing to count: off.
    emulator = WazzupEmulator(echo_api_sends=False, requests_per_window=10**9).start()
    processes: list[ServiceProcess] = []
    gateway = start_gateway_process(directory, redis=redis_url)
    try:
        for n in range(workers):
            processes.append(
                ServiceProcess(
                    ["-m", "ai_worker", "worker"],
                    env={
                        "PARLEY_ENV": "test",
                        "REDIS_URL": redis_url,
                        "GATEWAY_URL": gateway.url,
                        "WORKER_TOKEN": TOKENS["worker"],
                        "WORKER_NAME": f"load-{n}",
                        "CHROMA_PATH": str(directory / f"chroma-{n}"),
                        "EMBEDDING_THREADS": "1",
                        **fake.worker_env,
                    },
                    log_path=directory / f"worker-{n}.log",
                    cwd=directory,
                )
            )
        port = free_port()
        processes.append(
            ServiceProcess(
                ["-m", "whatsapp_adapter", "serve", "--port", str(port)],
                env={
                    "PARLEY_ENV": "test",
                    "WAZZUP_API_KEY": emulator.api_key,
                    "WAZZUP_API_BASE": emulator.url,
                    "WEBHOOK_SECRET": WEBHOOK_SECRET,
                    "GATEWAY_URL": gateway.url,
                    "GATEWAY_TOKEN": TOKENS["service"],
                    "REDIS_URL": redis_url,
                    "CONSUMER_NAME": "load-adapter",
                },
                log_path=directory / "adapter.log",
                cwd=directory,
            )
        )
        adapter_url = f"http://127.0.0.1:{port}"
        wait_until(lambda: httpx.get(f"{adapter_url}/health", timeout=2).status_code == 200, timeout=60, what="adapter")
        webhook = f"{adapter_url}/wazzup/webhook/{WEBHOOK_SECRET}"
        registered = httpx.patch(
            f"{emulator.url}/webhooks",
            json={"webhooksUri": webhook, "subscriptions": {"messagesAndStatuses": True}},
            headers={"Authorization": f"Bearer {emulator.api_key}"},
            timeout=30,
        )
        registered.raise_for_status()
        wait_until(lambda: ready_workers(redis_url) >= workers, timeout=600, what=f"{workers} workers ready")
        wait_until(lambda: httpx.get(f"{gateway.url}/ready", timeout=5).status_code == 200, timeout=60, what="ready")

        deliveries, chats = schedule(
            messages=messages, rate=rate, duplicate_every=duplicate_every, channel_id=emulator.whatsapp_channel_id
        )
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            results, send_seconds = pool.apply(_generator, ((webhook, deliveries),))
        last_post = time.monotonic()

        accepted = {m for m, status, _ in results if 200 <= status < 300}
        answered: set[str] = set()
        last_reply = last_post
        deadline = last_post + drain_timeout_seconds
        wanted = {chats[m] for m in accepted}
        while time.monotonic() < deadline:
            answered = {m["chatId"] for m in emulator.sent} & wanted
            if len(answered) == len(wanted):
                last_reply = time.monotonic()
                break
            time.sleep(0.2)
        drain = (last_reply if len(answered) == len(wanted) else time.monotonic()) - last_post
        # Every reply event the gateway published delivered and acknowledged: no second send is on its way.
        wait_until(lambda: replies_settled(redis_url), timeout=60, what="every reply acknowledged by the adapter")
        replies: dict[str, int] = {}
        for sent in emulator.sent:
            replies[sent["chatId"]] = replies.get(sent["chatId"], 0) + 1
        gateway_5xx, gateway_tasks = _gateway_figures(gateway.url)
        latencies = [ms for _, status, ms in results if 200 <= status < 300]
        return LoadReport(
            messages=messages,
            rate_per_s=rate,
            workers=workers,
            deliveries=len(results),
            accepted=len(accepted),
            status_5xx=sum(1 for _, status, _ in results if status >= 500),
            transport_errors=sum(1 for _, status, _ in results if status == -1),
            other_non_2xx=sum(1 for _, status, _ in results if 0 < status < 200 or 300 <= status < 500),
            lost=len(wanted - {c for c, n in replies.items() if n}),
            duplicated=sum(1 for n in replies.values() if n > 1),
            gateway_5xx=gateway_5xx,
            gateway_tasks=gateway_tasks,
            p50_accept_ms=percentile(latencies, 50) if latencies else 0.0,
            p99_accept_ms=percentile(latencies, 99) if latencies else 0.0,
            send_seconds=send_seconds,
            schedule_seconds=deliveries[-1].at,
            drain_seconds=drain,
        )
    finally:
        for process in reversed(processes):
            process.stop()
        gateway.stop()
        emulator.stop()
        fake.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=40.0, help="messages per second")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duplicate-every", type=int, default=20, help="every n-th message is delivered 3 times")
    parser.add_argument("--llm-latency", type=float, default=0.02, help="seconds per LLM answer")
    parser.add_argument("--drain-timeout", type=float, default=900.0)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args(argv)
    from bench.common import redis_url

    host = machine()  # the load average before the run
    with workdir("load") as directory:
        report = run_load(
            directory=directory,
            redis_url=redis_url(),
            messages=args.messages,
            rate=args.rate,
            workers=args.workers,
            duplicate_every=args.duplicate_every,
            llm_latency_seconds=args.llm_latency,
            drain_timeout_seconds=args.drain_timeout,
        )
    print(report.markdown())
    print()
    for key, value in host.items():
        print(f"- {key}: {value}")
    if args.json:
        print(json.dumps(asdict(report)))


if __name__ == "__main__":
    main()
