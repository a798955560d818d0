"""The baseline for the intake benchmark: a bare FastAPI endpoint with the gateway's request model.

Same path, same request and response models, same Idempotency-Key header and the same uvicorn
settings as `python -m gateway serve` (`uvicorn.run(app, host, port, log_level="info")`), but no
authentication, no database and no queue. `python -m bench.bare_app --port N`.
"""

from __future__ import annotations

import argparse
import logging
import uuid
from typing import Annotated

import uvicorn
from fastapi import FastAPI, Header, status

from parley_contract.schemas import MessageAccepted, MessageIn, TaskStatus

app = FastAPI(title="bare baseline")


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/api/v1/messages", status_code=status.HTTP_202_ACCEPTED, response_model=MessageAccepted)
async def post_message(
    message: MessageIn, idempotency_key: Annotated[str | None, Header(max_length=255)] = None
) -> MessageAccepted:
    return MessageAccepted(task_id=uuid.uuid4().hex, conversation_id=uuid.uuid4().hex, status=TaskStatus.queued)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bare_app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")


if __name__ == "__main__":
    main()
