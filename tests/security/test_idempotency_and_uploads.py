"""Issue #15, findings 2 and 3: idempotent replays across keys, and uploads read before authentication.

The replays: an Idempotency-Key record belongs to the API key that made it; 401/403 are never kept;
a response carrying a secret (a new key, a tenant's callback secret) is never kept, and a retry of
it with the same key is refused with 409 rather than shown the secret again or run twice.

The uploads are sent by a raw HTTP/1.1 client that streams a chunked body and stops the moment the
response begins: how much it had sent by then bounds how much the gateway read (a few socket
buffers on top of what the gateway consumed), against the 100 MiB it offers.
"""

from __future__ import annotations

import select
import socket
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import pytest

from parley_testkit.stack import TOKENS, Stack
from tests.gateway.admin_support import new_tenant

MiB = 1024 * 1024
OFFERED = 100 * MiB
#: What sockets may hold between the client and the gateway: far below the body offered.
BUFFERED = 8 * MiB
BOUNDARY = "parley-security-boundary"
UPLOAD_PATHS = ("/api/v1/knowledge/documents", "/internal/v1/documents")


@dataclass
class Exchange:
    status: int
    body: bytes
    #: Body bytes (chunk framing included) the client had handed to its socket when the answer came.
    sent: int
    seconds: float


def _request_head(url: str, path: str, token: str | None, headers: dict[str, str]) -> bytes:
    host = urlsplit(url).netloc
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", "Transfer-Encoding: chunked"]
    lines.append(f"Content-Type: multipart/form-data; boundary={BOUNDARY}")
    if token is not None:
        lines.append(f"Authorization: Bearer {token}")
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _multipart_chunks(*, filler: int, fields: dict[str, str]) -> Iterator[bytes]:
    """A multipart body with one file of `filler` bytes, as HTTP chunks (the final empty chunk last)."""
    head = b"".join(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    )
    head += (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.md"\r\n'
        "Content-Type: text/markdown\r\n\r\n"
    ).encode()
    block = b"x" * (64 * 1024)
    yield b"%x\r\n%s\r\n" % (len(head), head)
    remaining = filler
    while remaining > 0:
        piece = block[: min(remaining, len(block))]
        remaining -= len(piece)
        yield b"%x\r\n%s\r\n" % (len(piece), piece)
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    yield b"%x\r\n%s\r\n" % (len(tail), tail)
    yield b"0\r\n\r\n"


def _read_response(sock: socket.socket, *, deadline: float) -> tuple[int, bytes]:
    data = b""
    while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < _content_length(data):
        sock.settimeout(max(deadline - time.monotonic(), 0.1))
        try:
            piece = sock.recv(65536)
        except ConnectionResetError:
            break
        if not piece:
            break
        data += piece
    assert b"\r\n\r\n" in data, f"no complete response: {data[:200]!r}"
    head, body = data.split(b"\r\n\r\n", 1)
    return int(head.split(b" ", 2)[1]), body


def _content_length(data: bytes) -> int:
    head = data.split(b"\r\n\r\n", 1)[0].lower()
    for line in head.split(b"\r\n"):
        if line.startswith(b"content-length:"):
            return int(line.split(b":", 1)[1])
    return 0


def post_chunked_upload(
    stack: Stack,
    path: str,
    *,
    token: str | None,
    filler: int = OFFERED,
    fields: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 60,
) -> Exchange:
    """Stream a chunked multipart upload until the gateway answers (or the body is all sent)."""
    parts = urlsplit(stack.url)
    started = time.monotonic()
    deadline = started + timeout
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        # A small send buffer: what the client counts as sent is close to what reached the server.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)
        sock.sendall(_request_head(stack.url, path, token, headers or {}))
        sock.setblocking(False)
        chunks = _multipart_chunks(filler=filler, fields=fields or {})
        pending, sent = b"", 0
        while time.monotonic() < deadline:
            if not pending:
                pending = next(chunks, b"")
            readable, writable, _ = select.select([sock], [sock] if pending else [], [], 0.5)
            if readable:
                break
            if writable:
                try:
                    count = sock.send(pending)
                except (BrokenPipeError, ConnectionResetError):
                    break
                sent += count
                pending = pending[count:]
        sock.setblocking(True)
        status, body = _read_response(sock, deadline=deadline)
    return Exchange(status=status, body=body, sent=sent, seconds=time.monotonic() - started)


# --- Finding 2: an idempotent replay skips authorization -----------------------------------------


def test_another_key_of_the_tenant_is_not_replayed_the_new_keys_secret(gateway: Stack) -> None:
    tenant = new_tenant(gateway)
    idem = {"Idempotency-Key": f"create-{uuid.uuid4().hex}"}
    body = {"name": "made by the admin", "scopes": ["messages:write"]}
    first = tenant.admin.post(tenant.url("/keys"), json=body, headers=idem)
    assert first.status_code == 201, first.text
    secret = first.json()["key"]

    # The tenant's partner key (no admin scope) sends the same Idempotency-Key and body.
    replay = tenant.partner.post(tenant.url("/keys"), json=body, headers=idem)
    assert replay.status_code == 403, replay.text
    assert "Idempotent-Replayed" not in replay.headers
    assert secret not in replay.text


def test_a_response_carrying_a_secret_is_not_replayed_to_its_own_key_either(gateway: Stack) -> None:
    tenant = new_tenant(gateway)
    name = f"once-{uuid.uuid4().hex[:8]}"
    idem = {"Idempotency-Key": f"create-{uuid.uuid4().hex}"}
    body = {"name": name, "scopes": ["tasks:read"]}
    first = tenant.admin.post(tenant.url("/keys"), json=body, headers=idem)
    assert first.status_code == 201, first.text

    again = tenant.admin.post(tenant.url("/keys"), json=body, headers=idem)
    assert again.status_code == 409, again.text
    assert first.json()["key"] not in again.text
    assert "shown once" in again.json()["detail"]
    # Refused, not run again: the retry made no second key.
    keys = tenant.admin.get(tenant.url("/keys")).json()
    assert [k["name"] for k in keys].count(name) == 1


def test_callback_secrets_are_not_replayed(gateway: Stack) -> None:
    operator = gateway.client("admin")
    tenant_id = f"t-{uuid.uuid4().hex[:12]}"
    idem = {"Idempotency-Key": f"tenant-{uuid.uuid4().hex}"}
    body = {"id": tenant_id, "name": "Secretive"}
    created = operator.post("/api/v1/admin/tenants", json=body, headers=idem)
    assert created.status_code == 201, created.text
    again = operator.post("/api/v1/admin/tenants", json=body, headers=idem)
    assert again.status_code == 409
    assert created.json()["callback_secret"] not in again.text

    rotate = {"Idempotency-Key": f"rotate-{uuid.uuid4().hex}"}
    path = f"/api/v1/admin/tenants/{tenant_id}/callback-secret"
    rotated = operator.post(path, headers=rotate)
    assert rotated.status_code == 200, rotated.text
    repeated = operator.post(path, headers=rotate)
    assert repeated.status_code == 409
    assert rotated.json()["callback_secret"] not in repeated.text


def test_a_403_is_never_kept_for_a_replay(gateway: Stack) -> None:
    tenant = new_tenant(gateway)
    idem = {"Idempotency-Key": f"forbidden-{uuid.uuid4().hex}"}
    body = {"name": "attempt", "scopes": ["tasks:read"]}
    refused = tenant.partner.post(tenant.url("/keys"), json=body, headers=idem)
    assert refused.status_code == 403
    again = tenant.partner.post(tenant.url("/keys"), json=body, headers=idem)
    assert again.status_code == 403
    assert "Idempotent-Replayed" not in again.headers

    # The admin sending the same Idempotency-Key and body is served, not shown the partner's 403.
    served = tenant.admin.post(tenant.url("/keys"), json=body, headers=idem)
    assert served.status_code == 201, served.text
    assert "Idempotent-Replayed" not in served.headers


def test_the_message_route_still_finds_its_task_by_key_across_the_tenants_keys(gateway: Stack) -> None:
    tenant = new_tenant(gateway)
    other = gateway.client_with_key(gateway.new_key(tenant.id, "messages:write"))
    idem = {"Idempotency-Key": f"message-{uuid.uuid4().hex}"}
    message = {"channel": "web", "chat_id": "idem-keys", "user": {"id": "u1"}, "text": "Do you deliver?"}
    first = tenant.partner.post("/api/v1/messages", json=message, headers=idem)
    assert first.status_code == 202, first.text
    replay = tenant.partner.post("/api/v1/messages", json=message, headers=idem)
    assert replay.headers["Idempotent-Replayed"] == "true"
    # Another key of the tenant is not replayed the record; the route runs and finds the same task.
    second = other.post("/api/v1/messages", json=message, headers=idem)
    assert second.status_code == 202, second.text
    assert "Idempotent-Replayed" not in second.headers
    assert second.json()["task_id"] == first.json()["task_id"]


# --- Finding 3: unauthenticated uploads are read to disk ------------------------------------------


@pytest.mark.parametrize(
    ("path", "token"),
    [
        ("/api/v1/knowledge/documents", None),
        ("/api/v1/knowledge/documents", "not-a-key"),
        ("/internal/v1/documents", None),
    ],
)
def test_an_unauthenticated_upload_is_refused_before_its_body_is_read(
    sqlite_gateway: Stack, path: str, token: str | None
) -> None:
    exchange = post_chunked_upload(sqlite_gateway, path, token=token, fields={"tenant_id": "default"})
    assert exchange.status == 401, exchange.body
    assert exchange.sent < BUFFERED, f"{exchange.sent} bytes went in before the 401"
    assert exchange.seconds < 10


def test_a_key_without_the_scope_is_refused_before_its_upload_is_read(sqlite_gateway: Stack) -> None:
    tenant = new_tenant(sqlite_gateway)
    reader = sqlite_gateway.new_key(tenant.id, "knowledge:read")
    idem = {"Idempotency-Key": f"upload-{uuid.uuid4().hex}"}
    exchange = post_chunked_upload(sqlite_gateway, UPLOAD_PATHS[0], token=reader, headers=idem)
    assert exchange.status == 403, exchange.body
    assert exchange.sent < BUFFERED, f"{exchange.sent} bytes went in before the 403"
    # Nor a key that is not the workers', on the internal upload.
    exchange = post_chunked_upload(sqlite_gateway, UPLOAD_PATHS[1], token=reader, fields={"tenant_id": tenant.id})
    assert exchange.status in (401, 403), exchange.body
    assert exchange.sent < BUFFERED, f"{exchange.sent} bytes went in before the refusal"


@pytest.mark.parametrize(("path", "token"), [(UPLOAD_PATHS[0], "admin"), (UPLOAD_PATHS[1], "worker")])
@pytest.mark.parametrize("idempotency_key", [False, True])
def test_a_chunked_upload_over_the_cap_is_413_as_it_streams(
    sqlite_gateway: Stack, path: str, token: str, idempotency_key: bool
) -> None:
    cap = sqlite_gateway.settings.max_upload_bytes
    headers = {"Idempotency-Key": f"big-{uuid.uuid4().hex}"} if idempotency_key else {}
    exchange = post_chunked_upload(
        sqlite_gateway, path, token=TOKENS[token], fields={"tenant_id": "default"}, headers=headers
    )
    assert exchange.status == 413, exchange.body
    assert b"larger than" in exchange.body
    assert exchange.sent < cap + BUFFERED, f"{exchange.sent} bytes went in before the 413 (cap {cap})"


def test_a_normal_upload_still_works_on_both_paths(gateway: Stack) -> None:
    tenant = new_tenant(gateway)
    writer = gateway.client_with_key(gateway.new_key(tenant.id, "knowledge:write"))
    document = f"# Opening hours\n\nWe open at nine ({uuid.uuid4().hex}).\n".encode()
    plain = writer.post("/api/v1/knowledge/documents", files={"file": ("hours.md", document)})
    assert plain.status_code == 202, plain.text
    assert plain.json()["changed"] is True
    unsupported = writer.post("/api/v1/knowledge/documents", files={"file": ("virus.exe", b"MZ\x90\x00")})
    assert unsupported.status_code == 415

    # Chunked (no Content-Length), under the cap, with an Idempotency-Key: stored, then replayed.
    encoded = httpx.Request("POST", gateway.url, files={"file": ("chunked.md", document)})
    encoded.read()
    headers = {"Content-Type": encoded.headers["Content-Type"], "Idempotency-Key": f"up-{uuid.uuid4().hex}"}

    def body() -> Iterator[bytes]:
        yield encoded.content[:100]
        yield encoded.content[100:]

    chunked = writer.post("/api/v1/knowledge/documents", content=body(), headers=headers)
    assert chunked.status_code == 202, chunked.text
    replay = writer.post("/api/v1/knowledge/documents", content=body(), headers=headers)
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json() == chunked.json()

    worker = gateway.client("worker")
    internal = worker.post(
        "/internal/v1/documents", files={"file": ("cli.md", document)}, data={"tenant_id": tenant.id}
    )
    assert internal.status_code == 200, internal.text
    assert internal.json()["status"] == "ingesting"
    missing = worker.post("/internal/v1/documents", data={"tenant_id": tenant.id})
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["body", "file"]
