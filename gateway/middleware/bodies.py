"""Reading a request body once and handing it on to the app unchanged."""

from __future__ import annotations

from starlette.types import Message, Receive


class BodyTooLarge(Exception):
    pass


async def read_body(receive: Receive, *, max_bytes: int | None = None) -> bytes:
    """The whole request body; raises BodyTooLarge as soon as it grows past `max_bytes`."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if max_bytes is not None and size > max_bytes:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def replaying(body: bytes, receive: Receive) -> Receive:
    """A receive that first hands out `body`, then defers to the server (for disconnects)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
