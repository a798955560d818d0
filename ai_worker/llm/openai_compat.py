"""Any OpenAI-compatible chat completions API (OpenRouter, vLLM, llama.cpp's server, ...)."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator

import httpx
from httpx_sse import SSEError, connect_sse

from ai_worker.llm.base import ChatMessage, GenerationStats, LLMError, LLMTimeout


class _DeadlineStream(httpx.SyncByteStream):
    """A response body cut when its deadline passes.

    httpx's timeouts bound each read, not the whole response: a server that sends a keep-alive
    comment every few seconds (OpenRouter does while a model is queued) would hold a stream for ever.
    """

    def __init__(self, stream: httpx.SyncByteStream, *, deadline: float, request: httpx.Request) -> None:
        self._stream = stream
        self._deadline = deadline
        self._request = request

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._stream:
            if time.monotonic() > self._deadline:
                raise httpx.ReadTimeout("the answer was not complete by its deadline", request=self._request)
            yield chunk

    def close(self) -> None:
        self._stream.close()


class OpenAICompatibleProvider:
    name = "openai"
    composes_answers = True

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
        self.timeout = timeout
        self._client = httpx.Client(
            base_url=base_url.rstrip("/") + "/",
            headers={"Authorization": f"Bearer {api_key}"} if api_key else {},
            timeout=self._timeout_until(None),
            transport=transport,
        )

    def _timeout_until(self, deadline: float | None) -> httpx.Timeout:
        """The read timeout, shortened so that no single wait outlasts the deadline."""
        read = self.timeout if deadline is None else max(min(self.timeout, deadline - time.monotonic()), 0.001)
        return httpx.Timeout(read, connect=min(read, 10.0))

    def with_model(self, model: str) -> OpenAICompatibleProvider:
        """The same provider (and connection pool) asking for another model."""
        view = copy.copy(self)
        view.model = model
        return view

    def stream(
        self,
        messages: list[ChatMessage],
        *,
        max_tokens: int,
        temperature: float,
        stats: GenerationStats,
        deadline: float | None = None,
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
            with connect_sse(
                self._client,
                "POST",
                "chat/completions",
                json=body,
                timeout=self._timeout_until(deadline),
            ) as source:
                response = source.response
                if deadline is not None:
                    # Before the body is read, as httpx's own Client.send wraps the transport's stream.
                    assert isinstance(response.stream, httpx.SyncByteStream)
                    response.stream = _DeadlineStream(response.stream, deadline=deadline, request=response.request)
                if response.status_code != 200:
                    response.read()
                    raise LLMError(f"{self.name} provider answered HTTP {response.status_code}: {response.text[:300]}")
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
        except httpx.TimeoutException as exc:
            raise LLMTimeout(f"{self.name} provider timed out: {type(exc).__name__}: {exc}") from exc
        except (httpx.HTTPError, SSEError, json.JSONDecodeError) as exc:
            raise LLMError(f"{self.name} provider unreachable or malformed: {type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        self._client.close()
