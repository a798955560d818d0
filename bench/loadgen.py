"""A multi-process HTTP load generator: each process runs asyncio httpx clients in a closed loop."""

from __future__ import annotations

import asyncio
import multiprocessing
import time
import uuid
from dataclasses import dataclass

import httpx


@dataclass
class LoadResult:
    ok: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    client_cpu_s: float = 0.0

    @property
    def throughput(self) -> float:
        return self.ok / self.seconds


def _body(n: int) -> dict[str, object]:
    chat = f"bench-{n % 500}"
    return {"channel": "web", "chat_id": chat, "user": {"id": f"user-{chat}"}, "text": "Do you ship to Canada?"}


async def _connection(
    client: httpx.AsyncClient, deadline: float, prefix: str, latencies: list[float], counts: list[int]
) -> None:
    n = 0
    while time.perf_counter() < deadline:
        n += 1
        started = time.perf_counter()
        try:
            response = await client.post(
                "/api/v1/messages", json=_body(n), headers={"Idempotency-Key": f"{prefix}-{n}-{uuid.uuid4().hex}"}
            )
            ok = response.status_code == 202
        except httpx.HTTPError:
            ok = False
        if ok:
            latencies.append((time.perf_counter() - started) * 1000)
            counts[0] += 1
        else:
            counts[1] += 1


async def _process_main(url: str, token: str, connections: int, start_at: float, seconds: float) -> LoadResult:
    latencies: list[float] = []
    counts = [0, 0]
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {token}"}, limits=limits, timeout=30
    ) as client:
        await asyncio.sleep(max(start_at - time.time(), 0.0))
        began = time.perf_counter()
        cpu_began = time.process_time()
        deadline = began + seconds
        prefix = uuid.uuid4().hex[:8]
        await asyncio.gather(
            *(_connection(client, deadline, f"{prefix}-{i}", latencies, counts) for i in range(connections))
        )
        took = time.perf_counter() - began
        cpu = time.process_time() - cpu_began
    return LoadResult(ok=counts[0], errors=counts[1], seconds=took, latencies_ms=latencies, client_cpu_s=cpu)


def _run_process(args: tuple[str, str, int, float, float]) -> LoadResult:
    return asyncio.run(_process_main(*args))


def run_load(url: str, *, token: str, processes: int, connections: int, seconds: float) -> LoadResult:
    """`processes` × `connections` closed-loop clients POSTing messages with unique Idempotency-Keys."""
    start_at = time.time() + 1.0  # every process starts together, after its imports
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(processes) as pool:
        parts = pool.map(_run_process, [(url, token, connections, start_at, seconds)] * processes)
    return LoadResult(
        ok=sum(p.ok for p in parts),
        errors=sum(p.errors for p in parts),
        seconds=max(p.seconds for p in parts),
        latencies_ms=[lat for p in parts for lat in p.latencies_ms],
        client_cpu_s=sum(p.client_cpu_s for p in parts),
    )
