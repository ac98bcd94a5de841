"""The corked transport: the writes of one turn of the loop leave together, nothing is lost."""

from __future__ import annotations

import asyncio
from typing import Any

from marktplatz.web.protocol import CorkedTransport


class Recording:
    """The part of an asyncio transport that CorkedTransport uses, recording each write."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closing = False
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closing or self.closed

    def close(self) -> None:
        self.closed = True

    def get_write_buffer_size(self) -> int:
        return 7

    def get_extra_info(self, name: str) -> Any:
        return {"peername": ("127.0.0.1", 4711)}.get(name)


def corked() -> tuple[CorkedTransport, Recording]:
    real = Recording()
    return CorkedTransport(real, asyncio.get_running_loop()), real  # type: ignore[arg-type]


async def test_the_writes_of_one_turn_leave_in_one_write_at_its_end() -> None:
    transport, real = corked()
    transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
    transport.write(memoryview(b"{}"))
    assert real.writes == []
    await asyncio.sleep(0)
    assert real.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"]
    transport.writelines([b"a", b"", b"b"])
    await asyncio.sleep(0)
    assert real.writes[1:] == [b"ab"]


async def test_close_sends_what_was_written_first() -> None:
    transport, real = corked()
    transport.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")
    transport.close()
    assert real.writes == [b"HTTP/1.1 400 Bad Request\r\n\r\n"]
    assert real.closed
    await asyncio.sleep(0)
    assert len(real.writes) == 1


async def test_a_transport_that_is_closing_gets_nothing_more() -> None:
    transport, real = corked()
    transport.write(b"late")
    real.closing = True
    await asyncio.sleep(0)
    assert real.writes == []


async def test_empty_writes_schedule_nothing_and_the_rest_is_passed_through() -> None:
    transport, real = corked()
    transport.write(b"")
    await asyncio.sleep(0)
    assert real.writes == []
    transport.write(b"12345")
    assert transport.get_write_buffer_size() == 7 + 5
    assert transport.get_extra_info("peername") == ("127.0.0.1", 4711)
    await asyncio.sleep(0)
    assert transport.get_write_buffer_size() == 7
