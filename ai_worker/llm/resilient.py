"""A fallback chain of LLM providers: retries with backoff, a circuit breaker and a time cap each.

Every provider gets bounded retries (exponential backoff with jitter) and its own circuit
breaker, so a dead hosted API is skipped at once instead of costing each customer the full
retry budget. An attempt that takes longer than its cap fails and is not retried on the same
provider (a hang tends to repeat; the next provider is the better bet). The whole answer, every
provider, retry and backoff included, has a deadline: past it the chain fails, so the customer
hears an apology instead of waiting. `stream` yields tokens only from an attempt that finished,
so a retry never shows the customer half an answer twice; a `live` listener sees every attempt's
tokens as they come, labelled by attempt.
"""

from __future__ import annotations

import copy
import functools
import itertools
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import pybreaker
from tenacity import Retrying, retry_if_exception, stop_after_attempt, stop_before_delay, wait_exponential_jitter

from ai_worker.llm.base import ChatMessage, GenerationStats, LLMError, LLMProvider, LLMTimeout
from ai_worker.llm.openai_compat import OpenAICompatibleProvider
from ai_worker.metrics import LLM_ERRORS


@dataclass(frozen=True)
class Resilience:
    retries: int = 2
    #: One attempt by one provider.
    answer_timeout_seconds: float = 120.0
    #: The whole answer: every provider, retry and backoff.
    total_timeout_seconds: float = 150.0
    breaker_fail_max: int = 3
    breaker_reset_seconds: float = 30.0
    backoff_initial_seconds: float = 0.5
    backoff_max_seconds: float = 4.0


#: Called with (attempt label, piece) as each piece is generated; a new label means a new attempt.
LiveListener = Callable[[str, str], None]


class ResilientLLM:
    name = "chain"

    def __init__(self, providers: Sequence[LLMProvider], resilience: Resilience = Resilience()) -> None:
        if not providers:
            raise ValueError("a provider chain needs at least one provider")
        self.providers = list(providers)
        self.resilience = resilience
        self.breakers = {
            id(p): pybreaker.CircuitBreaker(
                fail_max=resilience.breaker_fail_max,
                reset_timeout=resilience.breaker_reset_seconds,
                exclude=[lambda exc: not isinstance(exc, LLMError)],
                name=p.name,
                throw_new_error_on_trip=False,  # the failure that trips it keeps its own message
            )
            for p in self.providers
        }

    @property
    def composes_answers(self) -> bool:
        """The lead provider's: it is the one that answers while it works."""
        return self.providers[0].composes_answers

    def arranged(self, *, lead: str | None, model: str | None) -> ResilientLLM:
        """This chain for one tenant: the provider named `lead` first (LLMError if this worker did not
        load it), and `model` asked of the hosted OpenAI-compatible providers. Circuit breakers are shared."""
        providers = list(self.providers)
        if lead is not None:
            leading = [p for p in providers if p.name == lead]
            if not leading:
                loaded = ", ".join(p.name for p in providers)
                raise LLMError(f"the tenant's provider {lead!r} is not loaded in this worker (loaded: {loaded})")
            providers = leading + [p for p in providers if p.name != lead]
        chain = copy.copy(self)
        chain.providers = []
        chain.breakers = {}
        for provider in providers:
            view = provider.with_model(model) if model and isinstance(provider, OpenAICompatibleProvider) else provider
            chain.providers.append(view)
            chain.breakers[id(view)] = self.breakers[id(provider)]
        return chain

    def _attempt(
        self,
        provider: LLMProvider,
        messages: list[ChatMessage],
        *,
        max_tokens: int,
        temperature: float,
        live: Callable[[str], None] | None,
        answer_deadline: float,
    ) -> tuple[list[str], GenerationStats]:
        stats = GenerationStats()
        started = time.monotonic()
        deadline = min(started + self.resilience.answer_timeout_seconds, answer_deadline)
        pieces: list[str] = []
        stream = provider.stream(
            messages, max_tokens=max_tokens, temperature=temperature, stats=stats, deadline=deadline
        )
        try:
            for piece in stream:
                if not pieces:
                    stats.first_token_s = time.monotonic() - started
                pieces.append(piece)
                if live is not None:
                    live(piece)
                if time.monotonic() > deadline:
                    raise LLMTimeout(f"{provider.name} did not finish its answer in {deadline - started:.0f} s")
        except LLMError:
            LLM_ERRORS.labels(provider=provider.name, reason="failed").inc()
            raise
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()
        return pieces, stats

    def _with_retries(
        self,
        provider: LLMProvider,
        messages: list[ChatMessage],
        *,
        max_tokens: int,
        temperature: float,
        last_resort: bool,
        live: LiveListener | None,
        attempt_labels: Iterator[str],
        answer_deadline: float,
    ) -> tuple[list[str], GenerationStats, int]:
        breaker = self.breakers[id(provider)]
        attempts = 0
        for attempt in Retrying(
            # No retry whose backoff would end past the answer's deadline.
            stop=stop_after_attempt(self.resilience.retries + 1)
            | stop_before_delay(max(answer_deadline - time.monotonic(), 0)),
            wait=wait_exponential_jitter(
                multiplier=self.resilience.backoff_initial_seconds,
                max=self.resilience.backoff_max_seconds,
                jitter=self.resilience.backoff_initial_seconds,
            ),
            retry=retry_if_exception(lambda exc: isinstance(exc, LLMError) and not isinstance(exc, LLMTimeout)),
            reraise=True,
        ):
            with attempt:
                attempts += 1
                label = next(attempt_labels)
                heard = None if live is None else (lambda piece, label=label: live(label, piece))
                run = functools.partial(
                    self._attempt,
                    provider,
                    messages,
                    max_tokens=max_tokens,
                    temperature=temperature,
                    live=heard,
                    answer_deadline=answer_deadline,
                )
                if last_resort:
                    # Nothing comes after it: an open circuit would only turn a chance into a failure.
                    pieces, stats = run()
                else:
                    try:
                        with breaker.calling():
                            pieces, stats = run()
                    except pybreaker.CircuitBreakerError as exc:
                        LLM_ERRORS.labels(provider=provider.name, reason="circuit_open").inc()
                        # Open circuit: skip this provider now, without spending the retry budget.
                        raise _Skip(f"{provider.name}: circuit open after repeated failures") from exc
        return pieces, stats, attempts

    def stream(
        self,
        messages: list[ChatMessage],
        *,
        max_tokens: int,
        temperature: float,
        stats: GenerationStats,
        deadline: float | None = None,
        live: LiveListener | None = None,
    ) -> Iterator[str]:
        failures: list[str] = []
        attempt_labels = (str(n) for n in itertools.count(1))
        total = self.resilience.total_timeout_seconds
        answer_deadline = time.monotonic() + total
        if deadline is not None:
            answer_deadline = min(answer_deadline, deadline)
        for position, provider in enumerate(self.providers):
            if time.monotonic() >= answer_deadline:
                failures.append(f"{provider.name}: not tried, the answer's {total:.0f} s were spent")
                continue
            try:
                pieces, attempt_stats, attempts = self._with_retries(
                    provider,
                    messages,
                    max_tokens=max_tokens,
                    temperature=temperature,
                    last_resort=position == len(self.providers) - 1,
                    live=live,
                    attempt_labels=attempt_labels,
                    answer_deadline=answer_deadline,
                )
            except (LLMError, _Skip) as exc:
                failures.append(str(exc))
                continue
            stats.prompt_tokens = attempt_stats.prompt_tokens
            stats.completion_tokens = attempt_stats.completion_tokens
            stats.finish_reason = attempt_stats.finish_reason
            stats.first_token_s = attempt_stats.first_token_s
            stats.provider = provider.name
            stats.attempts = attempts
            stats.failures = failures
            yield from pieces
            return
        raise LLMError("every LLM provider failed: " + " | ".join(failures))

    def close(self) -> None:
        for provider in self.providers:
            provider.close()


class _Skip(Exception):
    pass
