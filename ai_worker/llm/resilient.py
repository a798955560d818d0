"""A fallback chain of LLM providers: retries with backoff, a circuit breaker and a time cap each.

Every provider gets bounded retries (exponential backoff with jitter) and its own circuit
breaker, so a dead hosted API is skipped at once instead of costing each customer the full
retry budget. An answer that takes longer than the cap counts as a failure. `stream` yields
tokens only from an attempt that finished, so a retry never shows the customer half an answer
twice; a `live` listener sees every attempt's tokens as they come, labelled by attempt.
"""

from __future__ import annotations

import copy
import itertools
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import pybreaker
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from ai_worker.llm.base import ChatMessage, GenerationStats, LLMError, LLMProvider
from ai_worker.llm.openai_compat import OpenAICompatibleProvider
from ai_worker.metrics import LLM_ERRORS


@dataclass(frozen=True)
class Resilience:
    retries: int = 2
    answer_timeout_seconds: float = 120.0
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
    ) -> tuple[list[str], GenerationStats]:
        stats = GenerationStats()
        started = time.perf_counter()
        deadline = started + self.resilience.answer_timeout_seconds
        pieces: list[str] = []
        stream = provider.stream(messages, max_tokens=max_tokens, temperature=temperature, stats=stats)
        try:
            for piece in stream:
                if not pieces:
                    stats.first_token_s = time.perf_counter() - started
                pieces.append(piece)
                if live is not None:
                    live(piece)
                if time.perf_counter() > deadline:
                    raise LLMError(
                        f"{provider.name} took longer than {self.resilience.answer_timeout_seconds:.0f} s to answer"
                    )
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
    ) -> tuple[list[str], GenerationStats, int]:
        breaker = self.breakers[id(provider)]
        attempts = 0
        for attempt in Retrying(
            stop=stop_after_attempt(self.resilience.retries + 1),
            wait=wait_exponential_jitter(
                multiplier=self.resilience.backoff_initial_seconds,
                max=self.resilience.backoff_max_seconds,
                jitter=self.resilience.backoff_initial_seconds,
            ),
            retry=retry_if_exception_type(LLMError),
            reraise=True,
        ):
            with attempt:
                attempts += 1
                label = next(attempt_labels)
                heard = None if live is None else (lambda piece, label=label: live(label, piece))
                if last_resort:
                    # Nothing comes after it: an open circuit would only turn a chance into a failure.
                    pieces, stats = self._attempt(
                        provider, messages, max_tokens=max_tokens, temperature=temperature, live=heard
                    )
                else:
                    try:
                        with breaker.calling():
                            pieces, stats = self._attempt(
                                provider, messages, max_tokens=max_tokens, temperature=temperature, live=heard
                            )
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
        live: LiveListener | None = None,
    ) -> Iterator[str]:
        failures: list[str] = []
        attempt_labels = (str(n) for n in itertools.count(1))
        for position, provider in enumerate(self.providers):
            try:
                pieces, attempt_stats, attempts = self._with_retries(
                    provider,
                    messages,
                    max_tokens=max_tokens,
                    temperature=temperature,
                    last_resort=position == len(self.providers) - 1,
                    live=live,
                    attempt_labels=attempt_labels,
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
