"""Speech-to-text for voice notes through an OpenAI-compatible `/audio/transcriptions` API."""

from __future__ import annotations

import httpx


class TranscriptionFailed(Exception):
    pass


class Transcriber:
    def __init__(self, *, base_url: str, api_key: str, model: str, timeout: float = 60.0) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.AsyncClient(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout)
        self.model = model

    async def aclose(self) -> None:
        await self._http.aclose()

    async def transcribe(self, audio: bytes, *, filename: str = "voice.ogg", language: str | None = None) -> str:
        data = {"model": self.model, **({"language": language} if language else {})}
        try:
            response = await self._http.post(
                "/audio/transcriptions", data=data, files={"file": (filename, audio, "audio/ogg")}
            )
            response.raise_for_status()
            text = str(response.json().get("text", "")).strip()
        except (httpx.HTTPError, ValueError) as exc:
            raise TranscriptionFailed(str(exc)) from exc
        if not text:
            raise TranscriptionFailed("empty transcription")
        return text
