"""A scripted OpenAI-compatible speech-to-text server on loopback (`POST /v1/audio/transcriptions`).

Stands in for a hosted transcription API (outside our control): it takes the multipart upload the
OpenAI wire format defines and answers the transcript the test scripted for those exact bytes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from parley_testkit.servers import UvicornThread


@dataclass
class FakeSpeechToText:
    transcripts: dict[str, str] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    fail_with: int | None = None
    _server: UvicornThread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the server first"
        return f"{self._server.url}/v1"

    def script(self, audio: bytes, transcript: str) -> None:
        self.transcripts[hashlib.sha256(audio).hexdigest()] = transcript

    def start(self) -> FakeSpeechToText:
        app = FastAPI()

        @app.post("/v1/audio/transcriptions")
        async def transcribe(request: Request) -> JSONResponse:
            form = await request.form()
            upload: Any = form.get("file")
            audio = await upload.read() if upload is not None else b""
            self.requests.append(
                {
                    "model": form.get("model"),
                    "filename": getattr(upload, "filename", None),
                    "size": len(audio),
                    "authorization": request.headers.get("authorization"),
                }
            )
            if self.fail_with is not None:
                return JSONResponse({"error": {"message": "scripted failure", "type": "server_error"}}, self.fail_with)
            return JSONResponse({"text": self.transcripts.get(hashlib.sha256(audio).hexdigest(), "")})

        self._server = UvicornThread(app).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
