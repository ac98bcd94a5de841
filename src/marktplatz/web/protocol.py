"""uvicorn's httptools protocol, with the writes of one turn of the event loop sent together.

uvicorn writes an answer's status line and headers as soon as the app starts the answer, and its
body when the body arrives: two `send` calls and, with TCP_NODELAY, two packets and two wake-ups
of the client for an answer of a few hundred bytes. Every JSON answer of the edge (`POST /e`,
`POST /decide`) and every page pays for that. Here the writes a connection makes within one turn
of the loop are joined and leave in one call at the end of that turn (docs/performance.md).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class CorkedTransport:
    """A transport whose writes within one turn of the loop leave in one system call.

    Everything but writing and closing goes to the real transport. Closing sends what is
    collected first; a transport that is closing by then (the client went away) gets nothing.
    """

    __slots__ = ("_buffer", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._buffer: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if not self._buffer:
            self._loop.call_soon(self.flush)
        self._buffer.append(data if isinstance(data, bytes) else bytes(data))

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        """Send what was written since the last flush (called at the end of the turn)."""
        if not self._buffer:
            return
        data = self._buffer[0] if len(self._buffer) == 1 else b"".join(self._buffer)
        self._buffer.clear()
        if not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(map(len, self._buffer))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class CorkedHttpToolsProtocol(HttpToolsProtocol):
    """`marktplatz serve`'s HTTP protocol: uvicorn's, on a CorkedTransport."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CorkedTransport(transport, self.loop))  # type: ignore[arg-type]
