"""Publishing an answer's pieces to Redis while the model generates, for streaming partners."""

from __future__ import annotations

import logging
import time

from redis import Redis
from redis.exceptions import RedisError

from parley_contract.names import TASK_TOKENS_TTL_SECONDS, task_tokens_stream

log = logging.getLogger(__name__)


class TokenPublisher:
    """Appends pieces to the task's token stream in batches; a Redis failure only stops publishing,
    it never fails the answer."""

    def __init__(self, redis: Redis, *, task_id: str, attempt: int, interval_seconds: float = 0.05) -> None:
        self._redis = redis
        self._key = task_tokens_stream(task_id)
        self._attempt = str(attempt)
        self._interval = interval_seconds
        self._pending: list[str] = []
        self._last_flush = time.monotonic()
        self._broken = False

    def add(self, piece: str) -> None:
        self._pending.append(piece)
        if time.monotonic() - self._last_flush >= self._interval:
            self.flush()

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
