"""Finding 10 (SSRF through callbacks): a partner's callback URL must not make the gateway call into
its own network — not when the URL is submitted, not when it is sent (DNS rebinding), and a refused
target's answer is never shown back."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator, Sequence
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.db import make_engine, make_sessionmaker
from gateway.migrate import upgrade
from gateway.models import CallbackDelivery, Tenant, utcnow
from gateway.services.callback_dispatcher import CallbackDispatcher
from gateway.services.safe_http import (
    PinnedTransport,
    RefusedTarget,
    callback_url_problem,
    is_loopback_name,
    literal_address,
    non_public_kind,
)
from parley_testkit.servers import ROOT, wait_until
from parley_testkit.stack import Stack, gateway_settings
from tests.support import redis_dbs as dbs
from tests.support.callback_receiver import CallbackReceiver
from tests.support.databases import redis_url

PARTNER_HOST = "hooks.partner.example"
PUBLIC_ADDRESS = "93.184.215.14"


def hosts_file_private_name() -> str:
    """A name this machine's /etc/hosts maps to a non-public address (other than localhost, which is
    refused by name): a hostname that resolves, through the real resolver, into our own network."""
    for line in Path("/etc/hosts").read_text().splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) < 2:
            continue
        try:
            address = ipaddress.ip_address(fields[0])
        except ValueError:
            continue
        for name in fields[1:]:
            if non_public_kind(address) is not None and not is_loopback_name(name):
                return name
    raise AssertionError("/etc/hosts names no host with a non-public address (besides localhost)")


BAD_URLS = [
    "http://127.0.0.1:6379/",
    "http://127.0.0.1./hook",
    "http://2130706433/",
    "http://0x7f.1/",
    "http://0177.0.0.1/",
    "http://127.1/",
    "http://0/",
    "http://0.0.0.0:8000/",
    "http://localhost/hook",
    "http://LOCALHOST./hook",
    "http://hooks.localhost/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.5/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",
    "http://224.0.0.1/",
    "http://240.0.0.1/",
    "http://255.255.255.255/",
    "http://[::1]/",
    "http://[::]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[64:ff9b::a9fe:a9fe]/",
    "http://[2002:7f00:1::]/",
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://[fd12:3456::1]/",
    "http://[fec0::1]/",
    "http://[ff02::1]/",
]
NOT_HTTP = ["ftp://example.com/x", "file:///etc/passwd", "gopher://127.0.0.1:6379/_INFO"]
GOOD_URLS = [f"https://{PARTNER_HOST}/parley", f"http://{PUBLIC_ADDRESS}:8080/hook", "https://[2606:4700::1111]/hook"]


class Partner:
    """A tenant of the security gateway with a messages:write key and an admin key."""

    def __init__(self, stack: Stack) -> None:
        tenant = stack.new_tenant()
        self.stack = stack
        self.tenant_id: str = tenant["id"]
        self.client = stack.client_with_key(stack.new_key(self.tenant_id, "messages:write", "tasks:read"))
        self.admin = stack.client_with_key(stack.new_key(self.tenant_id, "admin"))

    def post(self, callback_url: str) -> httpx.Response:
        body = {"channel": "api", "chat_id": uuid.uuid4().hex[:8], "user": {"id": "u1"}, "text": "hi"}
        return self.client.post("/api/v1/messages", json={**body, "callback_url": callback_url})

    def create_key(self, callback_url: str) -> httpx.Response:
        return self.admin.post(
            f"/api/v1/admin/tenants/{self.tenant_id}/keys",
            json={"name": "hook key", "scopes": ["messages:write"], "callback_url": callback_url},
        )


def assert_refused(response: httpx.Response, url: str) -> None:
    assert response.status_code == 422, f"{url}: {response.status_code} {response.text}"
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "callback_url"], (url, error)
    assert error["msg"], url


@pytest.fixture(scope="module")
def partners() -> dict[str, Partner]:
    return {}


def partner_on(stack: Stack, partners: dict[str, Partner]) -> Partner:
    if stack.name not in partners:
        partners[stack.name] = Partner(stack)
    return partners[stack.name]


# ---- at submission ------------------------------------------------------------------------------


def test_private_and_oddly_spelt_callback_urls_are_refused_at_submission(
    gateway: Stack, partners: dict[str, Partner]
) -> None:
    partner = partner_on(gateway, partners)
    for url in [*BAD_URLS, f"http://{hosts_file_private_name()}:8000/hook", *NOT_HTTP]:
        assert_refused(partner.post(url), url)
        assert_refused(partner.create_key(url), url)


def test_the_refusal_says_why(gateway: Stack, partners: dict[str, Partner]) -> None:
    partner = partner_on(gateway, partners)
    [error] = partner.post("http://0x7f.1/hook").json()["detail"]
    assert "public" in error["msg"] and "loopback" in error["msg"] and "127.0.0.1" in error["msg"]
    [error] = partner.create_key("http://169.254.169.254/").json()["detail"]
    assert "link-local" in error["msg"]
    [error] = partner.post(f"https://{PARTNER_HOST}/" + "x" * 2100).json()["detail"]
    assert "2048" in error["msg"]


def test_public_callback_urls_are_accepted(gateway: Stack, partners: dict[str, Partner]) -> None:
    # PARTNER_HOST does not resolve here: a name without addresses yet is accepted (each send checks).
    partner = partner_on(gateway, partners)
    for url in GOOD_URLS:
        assert partner.post(url).status_code == 202, url
        created = partner.create_key(url)
        assert created.status_code == 201, created.text
        assert created.json()["callback_url"] == url


# ---- at send time, through the gateway's own dispatcher --------------------------------------------


class Listener:
    """A loopback TCP server that counts connections and answers each with `reply` (e.g. an HTTP
    error page, or a Redis error line), like a service the gateway must not be made to call."""

    def __init__(self, reply: bytes) -> None:
        self.reply = reply
        self.connections = 0
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.2)
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.getsockname()[1])

    def _serve(self) -> None:
        while not self._stopped.is_set():
            try:
                connection, _ = self._server.accept()
            except TimeoutError:
                continue
            self.connections += 1
            with connection:
                connection.settimeout(2)
                try:
                    connection.recv(65536)
                    connection.sendall(self.reply)
                except OSError:
                    pass

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=5)
        self._server.close()


@pytest.fixture
def secret() -> str:
    return f"SECRET-{uuid.uuid4().hex}"


@pytest.fixture
def http_listener(secret: str) -> Iterator[Listener]:
    body = f"internal admin page {secret}".encode()
    listener = Listener(
        b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body)
    )
    yield listener
    listener.stop()


@pytest.fixture
def redis_like_listener(secret: str) -> Iterator[Listener]:
    listener = Listener(f"-ERR unknown command 'POST', {secret}\r\n".encode())
    yield listener
    listener.stop()


async def insert_delivery(database_url: str, *, tenant_id: str, url: str) -> str:
    """A delivery due now, as one stored before submissions were checked (or whose name resolved
    to a public address then) would be."""
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            delivery = CallbackDelivery(
                tenant_id=tenant_id,
                task_id=uuid.uuid4().hex,
                url=url,
                payload={"id": "d", "type": "task.completed"},
                next_attempt_at=utcnow() - timedelta(seconds=1),
            )
            session.add(delivery)
            await session.commit()
            return delivery.id
    finally:
        await engine.dispose()


def test_a_stored_private_callback_url_is_not_called_and_its_answer_never_shown(
    gateway: Stack, http_listener: Listener, redis_like_listener: Listener, secret: str
) -> None:
    partner = Partner(gateway)
    urls = [f"http://127.0.0.1:{http_listener.port}/hook", f"http://127.0.0.1:{redis_like_listener.port}/"]
    ids = [
        asyncio.run(insert_delivery(gateway.settings.async_database_url, tenant_id=partner.tenant_id, url=url))
        for url in urls
    ]
    base = f"/api/v1/admin/tenants/{partner.tenant_id}/callbacks"

    def attempted() -> bool:
        return all(partner.admin.get(f"{base}/{delivery_id}").json()["attempts"] >= 1 for delivery_id in ids)

    wait_until(attempted, timeout=30, what="both deliveries attempted")
    for delivery_id in ids:
        detail = partner.admin.get(f"{base}/{delivery_id}").json()
        assert detail["last_status_code"] is None, detail
        assert "loopback" in detail["last_error"] and "CALLBACK_ALLOW_PRIVATE_URLS" in detail["last_error"], detail
    listing = partner.admin.get(base).text
    assert secret not in listing and "internal admin page" not in listing and "-ERR" not in listing
    assert http_listener.connections == 0 and redis_like_listener.connections == 0


# ---- at send time: the transport resolves once and connects to what it checked --------------------


class ScriptedResolver:
    """A DNS-free resolver: answers `answers[i]` to the i-th lookup (the last one from then on),
    like a name whose records an attacker changes between two lookups."""

    def __init__(self, *answers: Sequence[str]) -> None:
        self.answers = [list(a) for a in answers]
        self.lookups: list[tuple[str, int]] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append((host, port))
        return self.answers[min(len(self.lookups), len(self.answers)) - 1]


async def post_through(transport: PinnedTransport, url: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=transport, timeout=5) as client:
        return await client.post(url, content=b"{}")


def test_a_name_rebound_to_a_private_address_after_submission_is_not_connected_to(
    http_listener: Listener,
) -> None:
    resolver = ScriptedResolver([PUBLIC_ADDRESS], ["127.0.0.1"])
    url = f"http://{PARTNER_HOST}:{http_listener.port}/hook"
    # Submitted while the name answered a public address: accepted.
    assert asyncio.run(callback_url_problem(url, allow_private=False, resolver=resolver)) is None
    # Sent after the name was pointed at loopback: refused before any connection.
    with pytest.raises(RefusedTarget, match=r"loopback address 127\.0\.0\.1"):
        asyncio.run(post_through(PinnedTransport(resolver=resolver, allow_private=False), url))
    assert http_listener.connections == 0
    assert resolver.lookups == [(PARTNER_HOST, http_listener.port)] * 2


def test_every_address_a_name_resolves_to_is_checked(http_listener: Listener) -> None:
    resolver = ScriptedResolver([PUBLIC_ADDRESS, "127.0.0.1"])
    with pytest.raises(RefusedTarget):
        asyncio.run(
            post_through(
                PinnedTransport(resolver=resolver, allow_private=False), f"http://{PARTNER_HOST}:{http_listener.port}/"
            )
        )
    assert http_listener.connections == 0
    assert asyncio.run(callback_url_problem(f"http://{PARTNER_HOST}/", allow_private=False, resolver=resolver))


def test_the_connection_goes_to_the_resolved_address_with_the_host_header_kept() -> None:
    # The name exists only in the scripted resolver: reaching the receiver proves the connection
    # went to the address the transport resolved (and checked), not to a lookup of its own.
    receiver = CallbackReceiver().start()
    try:
        port = int(receiver.url.split(":")[2].split("/")[0])
        resolver = ScriptedResolver(["127.0.0.1"])
        response = asyncio.run(
            post_through(PinnedTransport(resolver=resolver, allow_private=True), f"http://{PARTNER_HOST}:{port}/hook")
        )
        assert response.status_code == 200
        [request] = receiver.wait_for(1)
        assert request.headers["Host"] == f"{PARTNER_HOST}:{port}"
        assert len(resolver.lookups) == 1
    finally:
        receiver.stop()


def self_signed_certificate(directory: Path, host: str) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", f"/CN={host}"),
            *("-addext", f"subjectAltName=DNS:{host}", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def test_tls_still_names_and_verifies_the_host_when_connecting_to_the_resolved_address(tmp_path: Path) -> None:
    cert, key = self_signed_certificate(tmp_path, PARTNER_HOST)
    server_names: list[str | None] = []
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    server_context.sni_callback = lambda _sock, name, _ctx: server_names.append(name)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(204)
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = server_context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"https://{PARTNER_HOST}:{server.server_port}/hook"
        trusted = ssl.create_default_context(cafile=str(cert))
        resolver = ScriptedResolver(["127.0.0.1"])
        response = asyncio.run(
            post_through(PinnedTransport(resolver=resolver, allow_private=True, verify=trusted), url)
        )
        assert response.status_code == 204
        assert server_names == [PARTNER_HOST]
        # A certificate for another name is refused although the address is the same.
        other = ssl.create_default_context(cafile=str(self_signed_certificate(tmp_path / "other", "other.example")[0]))
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            asyncio.run(post_through(PinnedTransport(resolver=resolver, allow_private=True, verify=other), url))
    finally:
        server.shutdown()
        server.server_close()


# ---- the dispatcher wires the transport in, and shows no answer of a target it called ---------------


@pytest.fixture
def dispatcher_database(tmp_path: Path) -> str:
    """A database of its own: no running gateway's dispatcher competes for its deliveries."""
    settings = gateway_settings(database_url=f"sqlite:///{tmp_path / 'parley.db'}", redis_url=redis_url(dbs.SSRF))
    upgrade(settings)
    return settings.database_url


async def dispatch_once(database_url: str, *, url: str, resolver: ScriptedResolver, allow_private: bool) -> Any:
    settings = gateway_settings(
        database_url=database_url, redis_url=redis_url(dbs.SSRF), callback_allow_private_urls=allow_private
    )
    engine = make_engine(settings.async_database_url)
    sessions = make_sessionmaker(engine)
    dispatcher = CallbackDispatcher(sessions=sessions, settings=settings, resolver=resolver)
    try:
        async with sessions() as session:
            session.add(Tenant(id="hooks", name="Hooks", settings={}, callback_secret="whsec_h"))
            await session.commit()
        delivery_id = await insert_delivery(settings.async_database_url, tenant_id="hooks", url=url)
        assert await dispatcher.dispatch_due() == 1
        for _ in range(200):
            async with sessions() as session:
                delivery = await session.get(CallbackDelivery, delivery_id)
            if delivery is not None and (delivery.last_error or delivery.last_status_code):
                return delivery
            await asyncio.sleep(0.05)
        raise AssertionError("the attempt was not recorded within 10 s")
    finally:
        await dispatcher.stop()
        await engine.dispose()


def test_the_dispatcher_refuses_a_name_that_now_resolves_to_loopback(
    dispatcher_database: str, http_listener: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A proxy from the environment would make the connection unchecked: it is not used.
    proxy = Listener(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{proxy.port}")
    resolver = ScriptedResolver(["127.0.0.1"])
    url = f"http://{PARTNER_HOST}:{http_listener.port}/hook"
    try:
        delivery = asyncio.run(dispatch_once(dispatcher_database, url=url, resolver=resolver, allow_private=False))
    finally:
        proxy.stop()
    assert delivery.attempts == 1 and delivery.last_status_code is None
    assert "resolves to the loopback address 127.0.0.1" in delivery.last_error
    assert http_listener.connections == 0 and proxy.connections == 0
    assert resolver.lookups == [(PARTNER_HOST, http_listener.port)]


@pytest.mark.parametrize("listener_name", ["http_listener", "redis_like_listener"])
def test_an_allowed_targets_answer_is_summarised_never_copied(
    dispatcher_database: str, listener_name: str, secret: str, request: pytest.FixtureRequest
) -> None:
    # Private addresses allowed (development): the target is called, but what it answered — an
    # error page, or a Redis reply an HTTP parser chokes on — stays out of the delivery.
    listener: Listener = request.getfixturevalue(listener_name)
    url = f"http://{PARTNER_HOST}:{listener.port}/hook"
    delivery = asyncio.run(
        dispatch_once(dispatcher_database, url=url, resolver=ScriptedResolver(["127.0.0.1"]), allow_private=True)
    )
    assert listener.connections == 1
    assert secret not in (delivery.last_error or "") and "-ERR" not in (delivery.last_error or "")
    if listener_name == "http_listener":
        assert delivery.last_status_code == 500 and delivery.last_error == "HTTP 500 Internal Server Error"
    else:
        assert delivery.last_status_code is None and delivery.last_error


# ---- the address checks --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("0.0.0.0", "unspecified"),
        ("10.1.2.3", "private"),
        ("172.31.255.255", "private"),
        ("192.168.0.1", "private"),
        ("169.254.169.254", "link-local"),
        ("100.64.0.1", "non-global"),
        ("224.0.0.251", "multicast"),
        ("240.0.0.1", "private"),
        ("255.255.255.255", "private"),
        ("::", "unspecified"),
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("fc00::1", "private"),
        ("fd00:ec2::254", "private"),
        ("fec0::1", "site-local"),
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("::ffff:169.254.169.254", "link-local"),
        ("64:ff9b::7f00:1", "loopback"),
        ("2002:a9fe:a9fe::1", "link-local"),
        ("::7f00:1", "reserved"),
        ("2001:db8::1", "private"),
    ],
)
def test_non_public_addresses_are_named(address: str, kind: str) -> None:
    assert non_public_kind(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize(
    "address", ["93.184.215.14", "8.8.8.8", "2606:4700::1111", "::ffff:93.184.215.14", "64:ff9b::808:808"]
)
def test_public_addresses_pass(address: str) -> None:
    assert non_public_kind(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("127.0.0.1.", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0X7F.0.0.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("0", "0.0.0.0"),
        ("[::1]", "::1"),
        ("::ffff:7f00:1", "::ffff:127.0.0.1"),
    ],
)
def test_every_spelling_of_an_address_is_read_as_one(host: str, address: str) -> None:
    assert literal_address(host) == ipaddress.ip_address(address)


@pytest.mark.parametrize("host", ["hooks.partner.example", "cafe.be", "deadbeef", "1.2.3.4.5", "xn--bcher-kva.de"])
def test_names_are_not_read_as_addresses(host: str) -> None:
    assert literal_address(host) is None


def test_localhost_names() -> None:
    for name in ("localhost", "LOCALHOST.", "api.localhost", "a.b.localhost."):
        assert is_loopback_name(name), name
    for name in ("localhost.example.com", "notlocalhost", "example.com"):
        assert not is_loopback_name(name), name


def test_private_urls_are_accepted_only_when_allowed() -> None:
    for url in ("http://127.0.0.1:8000/hook", "http://localhost/hook", "http://[::1]/"):
        assert asyncio.run(callback_url_problem(url, allow_private=True)) is None, url
        assert asyncio.run(callback_url_problem(url, allow_private=False)), url
    assert asyncio.run(callback_url_problem("ftp://example.com/", allow_private=True))
    assert gateway_settings(database_url="sqlite://", redis_url="redis://x").callback_allow_private_urls is False


def test_the_cli_refuses_a_private_callback_url(gateway: Stack) -> None:
    """The operator's shell is held to the same rule as the admin API (the send-time check stays)."""
    tenant = gateway.new_tenant()
    command = [sys.executable, "-m", "gateway", "keys", "create", "--tenant", tenant["id"], "--name", "cb"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": gateway.settings.database_url}
    refused = subprocess.run(
        [*command, "--scope", "tasks:read", "--callback-url", "http://169.254.169.254/latest/meta-data"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 1 and "169.254.169.254" not in refused.stdout, refused.stdout + refused.stderr
    assert refused.stderr.strip(), "the refusal says why"
    keys = gateway.client("admin").get(f"/api/v1/admin/tenants/{tenant['id']}/keys").json()
    assert keys == []
