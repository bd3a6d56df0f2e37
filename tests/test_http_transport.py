"""The remote engines' client (httpx over aiohttp) against real sockets on 127.0.0.1: failures surface as the httpx
errors the engines classify, and the pool never caps the requests in flight."""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx
import pytest
from aiohttp import web

from tui_tts.engines.base import RetryableError
from tui_tts.engines.http import make_client, raise_for_transport

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def raw_server(handler: Handler) -> AsyncIterator[str]:
    """A TCP server that answers however `handler` likes (or not at all)."""
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST instead of FIN (SO_LINGER 0)."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def test_connection_refused_is_a_connect_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once the socket closes
    async with make_client(f"http://127.0.0.1:{port}") as client:
        with pytest.raises(httpx.ConnectError):
            await client.get("/anything")


async def test_reset_before_the_answer_is_a_transport_error_and_retryable() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        _reset(writer)

    async with raw_server(handler) as url, make_client(url) as client:
        with pytest.raises(httpx.TransportError) as caught:
            await client.get("/x")
        assert isinstance(caught.value, httpx.ReadError | httpx.RemoteProtocolError)
        with pytest.raises(RetryableError):
            raise_for_transport(caught.value, "GET /x")


async def test_reset_in_the_middle_of_the_body_is_a_read_error() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 1000)
        await writer.drain()
        await asyncio.sleep(0.05)
        _reset(writer)

    async with raw_server(handler) as url, make_client(url) as client:
        with pytest.raises(httpx.TransportError) as caught:
            await client.get("/x")
        assert isinstance(caught.value, httpx.ReadError | httpx.RemoteProtocolError)


async def test_a_silent_server_is_a_read_timeout() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        await asyncio.sleep(5)

    async with raw_server(handler) as url, make_client(url, read_timeout=0.2) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get("/x")


async def test_garbage_instead_of_http_is_a_protocol_error() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"this is not HTTP at all\r\n\r\n")
        await writer.drain()
        writer.close()

    async with raw_server(handler) as url, make_client(url) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get("/x")


async def test_requests_in_flight_are_not_capped_by_the_pool() -> None:
    """More requests than any fixed pool size reach the server at once (a cap would queue them and deadlock here)."""
    wanted = 130
    arrived = 0
    everyone = asyncio.Event()

    async def hold(request: web.Request) -> web.Response:
        nonlocal arrived
        arrived += 1
        if arrived == wanted:
            everyone.set()
        await asyncio.wait_for(everyone.wait(), timeout=10)
        return web.json_response({"n": request.query["n"]}, headers={"X-Seen": str(arrived)})

    app = web.Application()
    app.router.add_get("/hold", hold)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        async with make_client(f"http://127.0.0.1:{runner.addresses[0][1]}", {"X-Key": "k"}) as client:
            answers = await asyncio.gather(*(client.get("/hold", params={"n": n}) for n in range(wanted)))
    finally:
        await runner.cleanup()
    assert [answer.json()["n"] for answer in answers] == [str(n) for n in range(wanted)]
    assert all(answer.status_code == 200 for answer in answers)
