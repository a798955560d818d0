"""Any OpenAI-compatible chat completions API (OpenRouter, vLLM, llama.cpp's server, ...)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator

import httpx
from httpx_sse import SSEError, connect_sse

from ai_worker.llm.base import ChatMessage, GenerationStats, LLMError


class OpenAICompatibleProvider:
    name = "openai"

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        model: str,
        timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.model = model
        self._client = httpx.Client(
            base_url=base_url.rstrip("/") + "/",
            headers={"Authorization": f"Bearer {api_key}"} if api_key else {},
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            transport=transport,
        )

    def with_model(self, model: str) -> OpenAICompatibleProvider:
        """The same provider (and connection pool) asking for another model."""
        view = copy.copy(self)
        view.model = model
        return view

    def stream(
        self, messages: list[ChatMessage], *, max_tokens: int, temperature: float, stats: GenerationStats
    ) -> Iterator[str]:
        body = {
            "model": self.model,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        try:
            with connect_sse(self._client, "POST", "chat/completions", json=body) as source:
                if source.response.status_code != 200:
                    source.response.read()
                    raise LLMError(
                        f"{self.name} provider answered HTTP {source.response.status_code}: "
                        f"{source.response.text[:300]}"
                    )
                for sse in source.iter_sse():
                    if sse.data.strip() == "[DONE]":
                        break
                    chunk = json.loads(sse.data)
                    if "error" in chunk:
                        raise LLMError(f"{self.name} provider error: {chunk['error']}")
                    usage = chunk.get("usage") or {}
                    if usage.get("prompt_tokens") is not None:
                        stats.prompt_tokens = usage["prompt_tokens"]
                    for choice in chunk.get("choices") or []:
                        if choice.get("finish_reason"):
                            stats.finish_reason = choice["finish_reason"]
                        piece = (choice.get("delta") or {}).get("content")
                        if piece:
                            stats.completion_tokens += 1
                            yield piece
                    if usage.get("completion_tokens") is not None:
                        stats.completion_tokens = usage["completion_tokens"]
        except (httpx.HTTPError, SSEError, json.JSONDecodeError) as exc:
            raise LLMError(f"{self.name} provider unreachable or malformed: {type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        self._client.close()
