"""The provider chain against real OpenAI-compatible servers on loopback that fail on cue."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from ai_worker.llm.base import ChatMessage, GenerationStats, LLMError
from ai_worker.llm.openai_compat import OpenAICompatibleProvider
from ai_worker.llm.resilient import Resilience, ResilientLLM
from parley_testkit.fake_llm import FakeLLM, Rule

QUESTION: list[ChatMessage] = [{"role": "user", "content": "Do you deliver to Ajman?"}]
FAST = Resilience(retries=2, answer_timeout_seconds=5, breaker_fail_max=3, backoff_initial_seconds=0.01)


@pytest.fixture
def primary() -> Iterator[FakeLLM]:
    fake = FakeLLM(default_answer="primary answer").start()
    yield fake
    fake.stop()


@pytest.fixture
def fallback() -> Iterator[FakeLLM]:
    fake = FakeLLM(default_answer="fallback answer").start()
    yield fake
    fake.stop()


def provider(fake: FakeLLM, *, timeout: float = 5) -> OpenAICompatibleProvider:
    return OpenAICompatibleProvider(base_url=fake.url, api_key="k", model="m", timeout=timeout)


def ask(chain: ResilientLLM) -> tuple[str, GenerationStats]:
    stats = GenerationStats()
    return "".join(chain.stream(QUESTION, max_tokens=20, temperature=0, stats=stats)), stats


def test_transient_failures_are_retried(primary: FakeLLM) -> None:
    primary.add(Rule(when="Ajman", status=503, times=2))
    answer, stats = ask(ResilientLLM([provider(primary)], FAST))
    assert answer == "primary answer"
    assert (stats.provider, stats.attempts) == ("openai", 3)
    assert len(primary.requests) == 3


def test_a_dead_primary_falls_back(primary: FakeLLM, fallback: FakeLLM) -> None:
    primary.add(Rule(when="Ajman", status=500))
    chain = ResilientLLM([provider(primary), provider(fallback)], FAST)
    answer, stats = ask(chain)
    assert answer == "fallback answer"
    assert len(primary.requests) == 3 and len(fallback.requests) == 1
    assert "HTTP 500" in stats.failures[0]


def test_a_hanging_primary_times_out_and_falls_back(primary: FakeLLM, fallback: FakeLLM) -> None:
    primary.add(Rule(when="Ajman", answer="too late", delay_seconds=3))
    chain = ResilientLLM([provider(primary, timeout=0.5), provider(fallback)], Resilience(retries=0))
    answer, stats = ask(chain)
    assert answer == "fallback answer"
    assert "ReadTimeout" in stats.failures[0]


def test_the_circuit_opens_and_skips_a_failing_provider(primary: FakeLLM, fallback: FakeLLM) -> None:
    primary.add(Rule(when="Ajman", status=500))
    chain = ResilientLLM([provider(primary), provider(fallback)], FAST)
    ask(chain)  # three failures trip the breaker
    requests_before = len(primary.requests)
    answer, stats = ask(chain)
    assert answer == "fallback answer"
    assert len(primary.requests) == requests_before  # not even tried
    assert "circuit open" in stats.failures[0]


def test_when_everything_fails_the_error_names_every_provider(primary: FakeLLM) -> None:
    primary.add(Rule(when="Ajman", status=500))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead_port = sock.getsockname()[1]
    dead = OpenAICompatibleProvider(base_url=f"http://127.0.0.1:{dead_port}/v1", api_key="k", model="m", timeout=2)
    with pytest.raises(LLMError, match="every LLM provider failed") as failure:
        ask(ResilientLLM([provider(primary), dead], FAST))
    assert "HTTP 500" in str(failure.value) and "unreachable" in str(failure.value)


def test_the_last_provider_is_always_tried(primary: FakeLLM) -> None:
    """A breaker skips a provider for the next one; with no next one it would only refuse."""
    chain = ResilientLLM([provider(primary)], FAST)
    primary.add(Rule(when="Ajman", status=500, times=6))
    for _ in range(2):
        with pytest.raises(LLMError):
            ask(chain)
    answer, _stats = ask(chain)
    assert answer == "primary answer"


def test_a_tenant_arrangement_asks_for_its_model_and_refuses_a_provider_not_loaded(primary: FakeLLM) -> None:
    chain = ResilientLLM([provider(primary)], FAST)
    tenant_chain = chain.arranged(lead="openai", model="tenant-model")
    assert ask(tenant_chain)[0] == "primary answer"
    assert primary.requests[-1]["model"] == "tenant-model"
    assert ask(chain)[0] == "primary answer" and primary.requests[-1]["model"] == "m"  # the worker's own is unchanged
    assert list(tenant_chain.breakers.values()) == list(chain.breakers.values())  # one breaker per real provider
    with pytest.raises(LLMError, match="'llamacpp' is not loaded in this worker"):
        chain.arranged(lead="llamacpp", model=None)


def test_a_live_listener_hears_each_attempt_apart_and_the_answer_is_the_finished_one(
    primary: FakeLLM, fallback: FakeLLM
) -> None:
    primary.add(Rule(when="Ajman", answer="a b c d e f g h", piece_delay_seconds=0.1))
    chain = ResilientLLM(
        [provider(primary), provider(fallback)],
        Resilience(retries=0, answer_timeout_seconds=0.25, backoff_initial_seconds=0.01),
    )
    heard: list[tuple[str, str]] = []
    stats = GenerationStats()
    answer = "".join(
        chain.stream(QUESTION, max_tokens=20, temperature=0, stats=stats, live=lambda a, p: heard.append((a, p)))
    )
    assert answer == "fallback answer"
    first = [piece for attempt, piece in heard if attempt == "1"]
    assert first and "".join(first).startswith("a b")  # the cut-off attempt was heard as it came
    assert "".join(piece for attempt, piece in heard if attempt == "2") == "fallback answer"


def test_a_provider_keeping_the_line_busy_is_cut_at_the_attempt_cap_and_not_retried(
    primary: FakeLLM, fallback: FakeLLM
) -> None:
    """Keep-alive comments reset every read timeout; only the attempt's cap ends the wait."""
    primary.add(Rule(when="Ajman", answer="far too late", keepalive_seconds=30))
    chain = ResilientLLM(
        [provider(primary, timeout=5), provider(fallback)],
        Resilience(retries=2, answer_timeout_seconds=1.5, backoff_initial_seconds=0.01),
    )
    answer, stats = ask(chain)
    assert answer == "fallback answer"
    assert len(primary.requests) == 1  # a timeout moves on to the next provider
    assert "timed out" in stats.failures[0] and "deadline" in stats.failures[0]


def test_the_whole_answer_is_capped_across_providers_and_retries(primary: FakeLLM, fallback: FakeLLM) -> None:
    primary.add(Rule(when="Ajman", answer="too late", keepalive_seconds=30))
    fallback.add(Rule(when="Ajman", answer="too late as well", keepalive_seconds=30))
    chain = ResilientLLM(
        [provider(primary), provider(fallback)], Resilience(answer_timeout_seconds=20, total_timeout_seconds=2)
    )
    with pytest.raises(LLMError, match="every LLM provider failed") as failure:
        ask(chain)
    assert "openai provider timed out" in str(failure.value)
    assert "not tried, the answer's 2 s were spent" in str(failure.value)
    assert len(fallback.requests) == 0


def test_no_retry_starts_after_the_answer_deadline(primary: FakeLLM) -> None:
    primary.add(Rule(when="Ajman", status=500))
    slow_backoff = Resilience(
        retries=10, total_timeout_seconds=1.5, backoff_initial_seconds=1.0, backoff_max_seconds=1.0
    )
    with pytest.raises(LLMError, match="HTTP 500"):
        ask(ResilientLLM([provider(primary)], slow_backoff))
    assert 1 <= len(primary.requests) <= 2  # 1 s (+ jitter) between tries, 1.5 s in all
