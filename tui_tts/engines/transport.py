"""httpx's API over aiohttp's connection pool: the remote engines' transport.

httpx's own pool (httpcore) scans every pooled connection, with a socket poll each, on every request and response;
at 64 jobs in flight that was most of a run's CPU. aiohttp's connector costs a fraction of it. Its errors are mapped
onto httpx's exception classes here by what happened (refused, reset, timed out), so the engines' retry and error
classification stay exactly as they were.
"""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import AsyncIterator
from typing import Any, NoReturn

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport
from httpx_aiohttp.transport import AiohttpResponseStream

# aiohttp exception -> the httpx class for the same failure; the first match wins, so subclasses come first.
_ERRORS: tuple[tuple[type[BaseException], type[httpx.TransportError]], ...] = (
    (aiohttp.ConnectionTimeoutError, httpx.ConnectTimeout),
    (aiohttp.SocketTimeoutError, httpx.ReadTimeout),
    (aiohttp.ServerTimeoutError, httpx.ReadTimeout),
    (aiohttp.ClientConnectorError, httpx.ConnectError),  # refused, unreachable, DNS
    (aiohttp.ServerDisconnectedError, httpx.RemoteProtocolError),  # closed before a whole answer arrived
    (aiohttp.ClientPayloadError, httpx.ReadError),
    (aiohttp.ClientOSError, httpx.ReadError),  # reset by peer
    (aiohttp.ClientResponseError, httpx.RemoteProtocolError),  # not valid HTTP
    (aiohttp.InvalidURL, httpx.UnsupportedProtocol),
    (aiohttp.ClientConnectionError, httpx.NetworkError),
    (aiohttp.ClientError, httpx.TransportError),
    (TimeoutError, httpx.ReadTimeout),
)


def as_httpx_error(exc: BaseException, request: httpx.Request) -> httpx.TransportError | None:
    """The httpx error for an aiohttp failure (also when httpx-aiohttp already mapped it, often to the wrong class)."""
    cause = exc.__cause__ if isinstance(exc, httpx.TransportError) and exc.__cause__ is not None else exc
    for source, target in _ERRORS:
        if isinstance(cause, source):
            message = str(cause) or type(cause).__name__
            return target(message, request=request)
    return exc if isinstance(exc, httpx.TransportError) else None


def _reraise(exc: BaseException, request: httpx.Request) -> NoReturn:
    mapped = as_httpx_error(exc, request)
    if mapped is None or mapped is exc:
        raise exc
    raise mapped from exc


class _MappedStream(httpx.AsyncByteStream):
    """A response body whose read errors surface as httpx errors (httpx reads the body after the transport returns)."""

    def __init__(self, inner: httpx.AsyncByteStream, request: httpx.Request) -> None:
        self._inner = inner
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for part in self._inner:
                yield part
        except (aiohttp.ClientError, httpx.TransportError, TimeoutError) as exc:
            _reraise(exc, self._request)

    async def aclose(self) -> None:
        await self._inner.aclose()


class PooledTransport(AiohttpTransport):
    """AiohttpTransport with no connection cap (the scheduler bounds concurrency, and it changes during a run) and
    aiohttp's errors mapped by what happened."""

    def get_client(self) -> aiohttp.ClientSession:
        # limit=0: no cap. A cap sized at start would queue requests in the pool once `+` raised the concurrency.
        connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=self.limits.keepalive_expiry, ssl=self.ssl_context)
        # Proxies from the environment, as httpx honoured them; looked up per request only when one is set.
        return aiohttp.ClientSession(connector=connector, trust_env=bool(urllib.request.getproxies()))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        # httpx-aiohttp's own method, minus what these engines never use (proxies by argument, streamed uploads),
        # and with the headers handed over as plain pairs: aiohttp reading httpx's Headers key by key cost more CPU
        # than the rest of the request.
        if not isinstance(self.client, aiohttp.ClientSession):
            self.client = self.get_client()
        timeout = request.extensions.get("timeout", {})
        headers = [(key.decode("latin-1"), value.decode("latin-1")) for key, value in request.headers.raw]
        try:
            content = request.content
        except httpx.RequestNotRead:  # a streamed body: hand the stream over, as httpx-aiohttp does
            return await self._streamed(request)
        try:
            response = await self.client.request(
                method=request.method,
                url=str(request.url),
                headers=headers,
                data=content or None,
                allow_redirects=False,
                auto_decompress=False,
                compress=False,
                timeout=aiohttp.ClientTimeout(
                    sock_connect=timeout.get("connect"), sock_read=timeout.get("read"), connect=timeout.get("pool")
                ),
                server_hostname=request.extensions.get("sni_hostname"),
            ).__aenter__()
        except asyncio.CancelledError:
            raise
        except (aiohttp.ClientError, TimeoutError) as exc:
            _reraise(exc, request)
        extensions: dict[str, Any] = {"http_version": b"HTTP/1.1"}
        if response.reason:
            extensions["reason_phrase"] = response.reason.encode()
        return httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=_MappedStream(AiohttpResponseStream(response), request),
            request=request,
            extensions=extensions,
        )

    async def _streamed(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await super().handle_async_request(request)
        except asyncio.CancelledError:
            raise
        except (aiohttp.ClientError, httpx.TransportError, TimeoutError) as exc:
            _reraise(exc, request)
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _MappedStream(response.stream, request)
        return response
