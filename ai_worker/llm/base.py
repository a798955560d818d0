"""One interface for every LLM provider: chat messages in, tokens out."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal, Protocol, TypedDict


class ChatMessage(TypedDict):
    role: Literal["system", "user", "assistant"]
    content: str


@dataclass
class GenerationStats:
    """Filled in by the provider while it streams; read after the iterator is exhausted."""

    prompt_tokens: int | None = None
    completion_tokens: int = 0
    finish_reason: str | None = None
    #: Set by a provider chain: who answered, after how many attempts, and when its first token came.
    provider: str | None = None
    attempts: int = 1
    first_token_s: float | None = None
    failures: list[str] = field(default_factory=list)


class LLMError(Exception):
    """The provider could not produce an answer (unreachable, misconfigured, or failed)."""


class LLMTimeout(LLMError):
    """The provider did not finish in time (no byte for the read timeout, or past the answer's deadline)."""


class LLMProvider(Protocol):
    name: str

    @property
    def composes_answers(self) -> bool:
        """Whether what it writes from excerpts is worth sending (after the grounding check). The bundled
        270M model's is not: with ANSWER_GENERATION=auto the business's own sentences are quoted instead."""
        ...

    def stream(
        self,
        messages: list[ChatMessage],
        *,
        max_tokens: int,
        temperature: float,
        stats: GenerationStats,
        deadline: float | None = None,
    ) -> Iterator[str]:
        """Yield the answer's text piece by piece; raise LLMError when the provider fails.

        `deadline` (a `time.monotonic()` value) is when the answer must be complete. A provider that
        waits on a network raises LLMTimeout instead of waiting past it, even if the other side keeps
        the line busy; between pieces, the caller (`ResilientLLM`) checks it for every provider.
        """
        ...

    def close(self) -> None: ...
