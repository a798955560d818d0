"""What every benchmark shares: the machine, percentiles, a section of the report, plots, servers."""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
import redis

from gateway.migrate import upgrade
from parley_testkit.servers import ROOT, ServiceProcess, free_port, wait_until
from parley_testkit.stack import TOKENS, gateway_settings

DOCS = ROOT / "docs"
PLOTS = DOCS / "bench"
SAMPLE_KB = ROOT / "sample_kb"


def redis_url() -> str:
    """Benchmarks flush this database: keep it apart from the tests' (`BENCH_REDIS_URL`)."""
    return os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/2")


def percentile(values: Sequence[float], q: int) -> float:
    """The q-th percentile (1..99) with linear interpolation; the value itself for one sample."""
    if len(values) == 1:
        return float(values[0])
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, str]:
    load = os.getloadavg()
    return {
        "CPU": cpu_model(),
        "cores (logical)": str(os.cpu_count()),
        "RAM": f"{psutil.virtual_memory().total / 2**30:.1f} GiB",
        "OS": platform.platform(),
        "Python": platform.python_version(),
        "load average at start (1/5/15 min)": " / ".join(f"{x:.2f}" for x in load),
    }


@dataclass
class Section:
    """One benchmark's part of docs/BENCHMARKS.md."""

    title: str
    command: str
    body: list[str] = field(default_factory=list)
    plots: list[Path] = field(default_factory=list)

    def add(self, *lines: str) -> None:
        self.body.extend(lines)

    def table(self, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
        self.body.append("| " + " | ".join(header) + " |")
        self.body.append("| " + " | ".join("---" for _ in header) + " |")
        for row in rows:
            self.body.append("| " + " | ".join(str(cell) for cell in row) + " |")
        self.body.append("")

    def markdown(self, *, relative_to: Path = DOCS) -> str:
        lines = [f"## {self.title}", "", f"Reproduce: `{self.command}`", "", *self.body]
        for plot in self.plots:
            lines += ["", f"![{plot.stem}]({plot.relative_to(relative_to).as_posix()})"]
        return "\n".join(lines).rstrip() + "\n"


Benchmark = Callable[[bool], Section]


def cli(name: str, run: Benchmark) -> None:
    """`python -m bench.<name> [--quick]`: run one benchmark and print its section."""
    parser = argparse.ArgumentParser(prog=f"python -m bench.{name}")
    parser.add_argument("--quick", action="store_true", help="a small smoke run (numbers are not meaningful)")
    args = parser.parse_args()
    section = run(args.quick)
    print(section.markdown())


def bar_plot(path: Path, title: str, labels: Sequence[str], values: Sequence[float], ylabel: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    bars = ax.bar(list(labels), list(values), color="#4472c4")
    ax.bar_label(bars, fmt="%.1f")
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def line_plot(
    path: Path,
    title: str,
    x: Sequence[float],
    series: Mapping[str, Sequence[float]],
    *,
    xlabel: str,
    ylabel: str,
    log_x: bool = False,
) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for label, ys in series.items():
        ax.plot(list(x), list(ys), marker="o", label=label)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if log_x:
        ax.set_xscale("log")
    ax.set_xticks(list(x), [f"{v:,.0f}" for v in x])
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


@contextmanager
def workdir(prefix: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix=f"parley-bench-{prefix}-") as path:
        yield Path(path)


@dataclass
class GatewayProcess:
    """`python -m gateway serve` as its own process on SQLite and the benchmark Redis database."""

    process: ServiceProcess
    url: str

    @property
    def pid(self) -> int:
        return self.process.proc.pid

    def rss_mib(self) -> float:
        return psutil.Process(self.pid).memory_info().rss / 2**20

    def stop(self) -> None:
        self.process.stop()


def gateway_env(database_url: str, redis: str) -> dict[str, str]:
    return {
        "PARLEY_ENV": "test",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis,
        "SERVICE_TOKEN": TOKENS["service"],
        "ADMIN_TOKEN": TOKENS["admin"],
        "WORKER_TOKEN": TOKENS["worker"],
        # The load generator is one key and 500 chats: limits high enough never to refuse it (the
        # limiter's Redis round trips still count in the measured intake).
        "RATE_LIMIT_PER_MINUTE": "100000000",
        "CHAT_RATE_LIMIT_PER_MINUTE": "100000000",
    }


def start_gateway_process(directory: Path, *, redis: str | None = None) -> GatewayProcess:
    """Flush the Redis database, migrate a fresh SQLite file and serve the gateway from it."""
    redis = redis or redis_url()
    database_url = f"sqlite:///{directory / 'parley.db'}"
    redis_module_flush(redis)
    upgrade(gateway_settings(database_url=database_url, redis_url=redis))
    port = free_port()
    process = ServiceProcess(
        ["-m", "gateway", "serve", "--port", str(port)],
        env=gateway_env(database_url, redis),
        log_path=directory / "gateway.log",
        cwd=directory,
    )
    url = f"http://127.0.0.1:{port}"
    wait_until(lambda: httpx.get(f"{url}/health", timeout=2).status_code < 500, timeout=60, what="gateway up")
    return GatewayProcess(process=process, url=url)


def redis_module_flush(url: str) -> None:
    redis.Redis.from_url(url).flushdb()


def python() -> str:
    return sys.executable


def elapsed_ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
