"""Publishing an answer's pieces to Redis while the model generates, for streaming partners."""

from __future__ import annotations

import logging
import time

from redis import Redis
from redis.exceptions import RedisError

from parley_contract.names import TASK_TOKENS_TTL_SECONDS, task_tokens_stream

log = logging.getLogger(__name__)


class TokenPublisher:
    """Appends pieces to the task's token stream in batches, each entry labelled with its attempt
    (`<job attempt>.<LLM attempt>`: a reader that sees the label change knows the answer started
    over). A Redis failure only stops publishing, it never fails the answer."""

    def __init__(self, redis: Redis, *, task_id: str, attempt: int, interval_seconds: float = 0.05) -> None:
        self._redis = redis
        self._key = task_tokens_stream(task_id)
        self._job_attempt = attempt
        self._attempt = f"{attempt}.1"
        self._interval = interval_seconds
        self._pending: list[str] = []
        self._last_flush = time.monotonic()
        self._broken = False

    def add(self, piece: str, *, llm_attempt: str = "1") -> None:
        attempt = f"{self._job_attempt}.{llm_attempt}"
        if attempt != self._attempt:
            self.flush()
            self._attempt = attempt
        self._pending.append(piece)
        if time.monotonic() - self._last_flush >= self._interval:
            self.flush()

    def live(self, llm_attempt: str, piece: str) -> None:
        """A `ResilientLLM` live listener."""
        self.add(piece, llm_attempt=llm_attempt)

    def flush(self) -> None:
        text, self._pending = "".join(self._pending), []
        self._last_flush = time.monotonic()
        if not text or self._broken:
            return
        try:
            pipe = self._redis.pipeline(transaction=False)
            pipe.xadd(self._key, {"text": text, "attempt": self._attempt})
            pipe.expire(self._key, TASK_TOKENS_TTL_SECONDS)
            pipe.execute()
        except RedisError:
            self._broken = True
            log.warning("could not publish answer pieces to %s; the answer goes on", self._key, exc_info=True)
