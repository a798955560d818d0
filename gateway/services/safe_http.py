"""Outbound HTTP to hosts that partners choose (callback URLs), kept out of our own network.

A partner's URL must not make the gateway call Redis, a metadata service or an admin port next to
it (SSRF). Two places check: `callback_url_problem` when the URL is submitted (a clear 422), and
`PinnedTransport` on every send, which resolves the host once, checks every address and connects
to a checked address. Checking and then letting the HTTP client resolve again would let a name
that answers a public address to the check and a private one to the connect (DNS rebinding) through.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable, Sequence

import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
#: (host, port) → the addresses the host resolves to, as text (e.g. "93.184.215.14", "2606:4700::1111").
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]

#: The longest callback URL stored (the columns' size).
MAX_CALLBACK_URL_CHARS = 2048
#: How long a submission waits for the host to resolve (the send checks again anyway).
SUBMISSION_RESOLVE_SECONDS = 3.0
ALLOW_HINT = "set CALLBACK_ALLOW_PRIVATE_URLS=true to allow that"

# Only the IPv4 forms that inet_aton reads (2130706433, 0x7f.1, 0177.0.0.1, 127.1) look like this.
_NUMERIC_HOST = re.compile(r"^[0-9a-fx.]+$")
# NAT64's well-known prefix carries an IPv4 address in its last 32 bits (RFC 6052).
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class RefusedTarget(Exception):
    """The host is, or resolves to, an address callbacks must not reach."""


async def system_resolve(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    # An IPv6 address that carries an IPv4 one reaches what that IPv4 address reaches.
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def non_public_kind(address: IPAddress) -> str | None:
    """What kind of non-public address this is ("loopback", "private", …), or None if it is public."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return non_public_kind(embedded)
        if address.is_site_local:
            return "site-local"
    for kind in ("unspecified", "loopback", "link_local", "multicast", "private", "reserved"):
        if getattr(address, f"is_{kind}"):
            return kind.replace("_", "-")
    # E.g. 100.64.0.0/10 (carrier-grade NAT): not private by the book, not reachable from outside either.
    return None if address.is_global else "non-global"


def literal_address(host: str) -> IPAddress | None:
    """The address a host names literally, in any spelling the resolver accepts, or None for a name."""
    bare = host.strip("[]").rstrip(".").lower()
    try:
        return ipaddress.ip_address(bare)
    except ValueError:
        pass
    if _NUMERIC_HOST.match(bare):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(bare))
        except OSError:
            return None
    return None


def is_loopback_name(host: str) -> bool:
    # RFC 6761: "localhost" and every name under it are loopback, whatever a resolver answers.
    name = host.rstrip(".").lower()
    return name == "localhost" or name.endswith(".localhost")


def _parse_resolved(host: str, text: str) -> IPAddress:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        raise RefusedTarget(f"the host {host!r} resolved to {text!r}, which is not an IP address") from None


def _refuse_non_public(host: str, addresses: Iterable[IPAddress]) -> None:
    for address in addresses:
        kind = non_public_kind(address)
        if kind is None:
            continue
        if str(address) == host.strip("[]"):
            raise RefusedTarget(f"{address} is a {kind} address, not a public one")
        raise RefusedTarget(f"the host {host!r} resolves to the {kind} address {address}, not a public one")


async def target_addresses(host: str, port: int, *, resolver: Resolver, allow_private: bool) -> list[IPAddress]:
    """The addresses to connect to for `host`, every one checked (unless `allow_private`).

    Raises RefusedTarget for a non-public one, OSError when the name does not resolve.
    """
    literal = literal_address(host)
    if literal is not None:
        found = [literal]
    elif is_loopback_name(host) and not allow_private:
        raise RefusedTarget(f"{host!r} is a loopback name, not a public host")
    else:
        found = [_parse_resolved(host, text) for text in await resolver(host, port)]
        if not found:
            raise OSError(f"no addresses for {host!r}")
    if not allow_private:
        _refuse_non_public(host, found)
    return found


async def callback_url_problem(
    url: str,
    *,
    allow_private: bool,
    resolver: Resolver = system_resolve,
    resolve_seconds: float = SUBMISSION_RESOLVE_SECONDS,
) -> str | None:
    """Why a submitted callback URL is refused, or None.

    A name that does not resolve yet is accepted: the partner may set up DNS later, and every send
    checks again (a refusal then fails the delivery with the reason).
    """
    if len(url) > MAX_CALLBACK_URL_CHARS:
        return f"the callback URL is {len(url)} characters; the limit is {MAX_CALLBACK_URL_CHARS}"
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        return f"the callback URL is not a valid URL: {exc}"
    if parsed.scheme not in ("http", "https"):
        return "the callback URL must be http or https"
    host = parsed.raw_host.decode("ascii")
    if not host:
        return "the callback URL has no host"
    try:
        async with asyncio.timeout(resolve_seconds):
            port = parsed.port or (443 if parsed.scheme == "https" else 80)
            await target_addresses(host, port, resolver=resolver, allow_private=allow_private)
    except RefusedTarget as exc:
        return f"callbacks go only to public addresses: {exc}"
    except (OSError, TimeoutError):
        return None
    return None


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """Opens each connection to an address it resolved and checked itself, never to one a later
    lookup might give. TLS still names the URL's host (httpcore passes it as SNI and checks the
    certificate against it), as does the Host header."""

    def __init__(self, *, resolver: Resolver, allow_private: bool) -> None:
        self._resolver = resolver
        self._allow_private = allow_private
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                found = await target_addresses(host, port, resolver=self._resolver, allow_private=self._allow_private)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"resolving {host!r} took longer than {timeout} s") from None
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host!r}: {exc}") from exc
        failure: httpcore.ConnectError | None = None
        for address in found:
            try:
                return await self._inner.connect_tcp(
                    str(address), port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except httpcore.ConnectError as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise RefusedTarget("unix sockets are not callback targets")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class PinnedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport on a `PinnedBackend`. It never goes through a proxy (an HTTP_PROXY from the
    environment would make the connection, unchecked); SSL_CERT_FILE/SSL_CERT_DIR still count."""

    def __init__(self, *, resolver: Resolver, allow_private: bool, verify: ssl.SSLContext | bool = True) -> None:
        super().__init__(verify=verify)
        # httpx 0.28 takes no network backend: its pool is replaced by one with the same defaults on ours.
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=PinnedBackend(resolver=resolver, allow_private=allow_private),
        )
