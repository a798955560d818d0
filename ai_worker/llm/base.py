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
    extra: dict[str, object] = field(default_factory=dict)


class LLMError(Exception):
    """The provider could not produce an answer (unreachable, misconfigured, or failed)."""


class LLMProvider(Protocol):
    name: str

    def stream(
        self, messages: list[ChatMessage], *, max_tokens: int, temperature: float, stats: GenerationStats
    ) -> Iterator[str]:
        """Yield the answer's text piece by piece; raise LLMError when the provider fails."""
        ...

    def close(self) -> None: ...
