"""`marktplatz serve`'s HTTP protocol on a real uvicorn server and real sockets."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any, ClassVar

import pytest
import uvicorn

from marktplatz.web.protocol import CorkedHttpToolsProtocol

BIG = bytes(range(256)) * 4096  # 1 MiB


class Counting(CorkedHttpToolsProtocol):
    """The protocol under test, counting the writes that reach the real transport."""

    writes: ClassVar[list[bytes]] = []

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        real_write = transport.write

        def write(data: Any) -> None:
            Counting.writes.append(bytes(data))
            real_write(data)

        transport.write = write  # type: ignore[method-assign]
        super().connection_made(transport)


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    path = scope["path"]
    if path == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for part in (b"eins ", b"zwei ", b"drei"):
            await send({"type": "http.response.body", "body": part, "more_body": True})
            await asyncio.sleep(0.01)
        await send({"type": "http.response.body", "body": b""})
        return
    answer = BIG if path == "/big" else b'{"echo":%d}' % len(body)
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(answer))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": answer})


@pytest.fixture
async def port() -> AsyncIterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    config = uvicorn.Config(
        app, host="127.0.0.1", port=free, http=Counting, lifespan="off", log_level="warning"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):  # uvicorn's Server has no event for "started"
        if server.started:
            break
        await asyncio.sleep(0.01)
    assert server.started
    Counting.writes.clear()
    yield free
    server.should_exit = True
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, 10)


async def read_answer(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").lower().split("\r\n")
    length = next((int(v.split(":")[1]) for v in lines if v.startswith("content-length:")), None)
    if length is not None:
        return head, await reader.readexactly(length)
    body = b""
    while True:  # chunked
        size = int((await reader.readuntil(b"\r\n")).strip(), 16)
        chunk = await reader.readexactly(size + 2)
        if size == 0:
            return head, body
        body += chunk[:-2]


async def test_a_small_answer_leaves_in_one_write_and_keep_alive_holds(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for n in range(3):
        payload = b"x" * n
        writer.write(
            b"POST /e HTTP/1.1\r\nhost: t\r\ncontent-length: %d\r\n\r\n%s" % (len(payload), payload)
        )
        head, body = await read_answer(reader)
        assert head.startswith(b"HTTP/1.1 200 OK\r\n")
        assert body == b'{"echo":%d}' % n
    writer.close()
    assert len(Counting.writes) == 3
    assert all(w.startswith(b"HTTP/1.1 200 OK\r\n") and w.endswith(b"}") for w in Counting.writes)


async def test_streamed_and_large_answers_arrive_whole(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /stream HTTP/1.1\r\nhost: t\r\n\r\n")
    _, body = await read_answer(reader)
    assert body == b"eins zwei drei"
    writer.write(b"GET /big HTTP/1.1\r\nhost: t\r\n\r\n")
    _, body = await read_answer(reader)
    assert body == BIG
    writer.close()


async def test_a_broken_request_is_answered_and_closed(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"NONSENSE\x00\r\n\r\n")
    answer = await asyncio.wait_for(reader.read(), 5)
    assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    writer.close()
