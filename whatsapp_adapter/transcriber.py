"""Voice notes to text through any OpenAI-compatible speech-to-text API (`/audio/transcriptions`)."""

from __future__ import annotations

import posixpath
from urllib.parse import urlparse

import httpx
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from whatsapp_adapter.settings import WhatsAppSettings


class TranscriptionFailed(Exception):
    """The audio could not be fetched or transcribed; the customer gets the polite voice reply instead."""


class _Retryable(TranscriptionFailed):
    pass


class Transcriber:
    """Like the worker's LLM provider, one documented HTTP call with httpx (the `openai` package here is
    built on httpx2, which would not take our httpx transport seam)."""

    def __init__(self, settings: WhatsAppSettings, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        assert settings.stt_base_url, "STT_BASE_URL is not set"
        self._max_bytes = settings.stt_max_bytes
        self._model = settings.stt_model
        # Wazzup's contentUri is a direct link; no redirects, as Wazzup itself does not follow them.
        self._media = httpx.AsyncClient(timeout=settings.stt_timeout_seconds, transport=transport)
        self._stt = httpx.AsyncClient(
            base_url=settings.stt_base_url.rstrip("/") + "/",
            headers={"Authorization": f"Bearer {settings.stt_api_key}"} if settings.stt_api_key else {},
            timeout=settings.stt_timeout_seconds,
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._media.aclose()
        await self._stt.aclose()

    async def _download(self, content_uri: str) -> bytes:
        try:
            async with self._media.stream("GET", content_uri) as response:
                if response.status_code != 200:
                    raise TranscriptionFailed(f"audio download answered HTTP {response.status_code}")
                data = bytearray()
                async for chunk in response.aiter_bytes():
                    data.extend(chunk)
                    if len(data) > self._max_bytes:
                        raise TranscriptionFailed(f"audio larger than {self._max_bytes} bytes")
                return bytes(data)
        except httpx.HTTPError as exc:
            raise TranscriptionFailed(f"audio download failed: {type(exc).__name__}") from exc

    async def transcribe(self, content_uri: str) -> str:
        audio = await self._download(content_uri)
        name = posixpath.basename(urlparse(content_uri).path) or "voice.ogg"
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(_Retryable),
            wait=wait_exponential(multiplier=0.5, max=4),
            stop=stop_after_attempt(3),
            reraise=True,
        ):
            with attempt:
                text = await self._post(name, audio)
        if not text:
            raise TranscriptionFailed("the transcription is empty")
        return text

    async def _post(self, name: str, audio: bytes) -> str:
        try:
            response = await self._stt.post(
                "audio/transcriptions",
                data={"model": self._model, "response_format": "json"},
                files={"file": (name, audio)},
            )
        except httpx.TransportError as exc:
            raise _Retryable(f"transcription failed: {type(exc).__name__}") from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise _Retryable(f"transcription failed: HTTP {response.status_code}")
        if response.status_code != 200:
            raise TranscriptionFailed(f"transcription refused: HTTP {response.status_code}")
        try:
            return str(response.json()["text"]).strip()
        except (ValueError, KeyError, TypeError) as exc:
            raise TranscriptionFailed("transcription answer without text") from exc
