"""A TCP fault proxy between an SDK client and an emulator, for the network fault tests.

The in-process fault wrapper (``cloudstores.testing``) sits above the SDK, so it cannot
see what the HTTP client does by itself (aiohttp re-sends an idempotent PUT whose
answer was lost). This proxy sits below it, on a real socket: it reads each HTTP/1.1
request (request line, headers, a Content-Length or chunked body), forwards it over
one upstream connection per client connection (keep-alive works on both sides), reads
the whole answer, and passes it back, unless a planned fault says otherwise::

    proxy.plan(fault="drop_response", method="PUT", path_contains="/audit/", nth=1)

Faults:

* ``drop_response``: forward the request, read the server's full answer (the write
  HAS landed), then close the client connection without sending it.
* ``reset_mid_body``: forward, then send the answer's head and half its body, then
  reset the connection (RST).
* ``delay``: forward, then hold the server's answer ``seconds`` before sending it.
* ``status``: answer ``status`` (503, 429, ...) without forwarding; the connection
  stays open.

A rule counts the requests that match all its filters: ``method``; ``path_contains``,
a substring (or a tuple of substrings) of the URL-decoded request target;
``body_contains``, bytes of the raw body; ``reused``, True for requests after the first
on their connection. It fires on match number ``nth`` and the next ``times - 1``
matches (``times`` default 1), or, with ``every=k``, on matches ``nth``, ``nth + k``,
``nth + 2k``, ... (``times`` default unlimited). The first rule that fires decides.
``reset()`` forgets rules and events. ``events`` lists every request with the fault it
got (``"upstream_closed"`` when the server closed without answering).

moto (werkzeug) closes its connection after every answer; the proxy then strips the
``Connection: close`` and keeps the client's connection open (the next request opens a
new upstream connection), so clients reuse connections as they do against real clouds.

The proxy runs its own event loop in a daemon thread, so it serves any test's loop
and synchronous clients alike. Stdlib only.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import socket
import struct
import threading
from dataclasses import dataclass, field
from typing import Literal, Self
from urllib.parse import unquote, urlsplit

from tests.emulators import free_port

__all__ = ["Event", "FaultProxy", "Rule"]

Fault = Literal["drop_response", "reset_mid_body", "delay", "status"]
FAULTS: frozenset[str] = frozenset({"drop_response", "reset_mid_body", "delay", "status"})
HEAD_LIMIT = 1024 * 1024  # largest request/response head (line + headers) accepted
_REASONS = {
    408: "Request Timeout",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass
class Rule:
    """One planned fault and the requests it applies to (see the module docstring)."""

    fault: Fault
    method: str | None = None
    path_contains: str | tuple[str, ...] | None = None  # a tuple: all must occur
    body_contains: bytes | None = None
    reused: bool | None = None
    nth: int = 1
    times: int | None = None
    every: int | None = None
    status: int = 503
    seconds: float = 1.0
    matched: int = 0
    fired: int = 0

    def matches(self, method: str, target: str, body: bytes, reused: bool) -> bool:
        return (
            (self.method is None or self.method == method)
            and all(part in target for part in _parts(self.path_contains))
            and (self.body_contains is None or self.body_contains in body)
            and (self.reused is None or self.reused == reused)
        )

    def count(self) -> bool:
        """Count one matching request; True if the fault applies to it."""
        self.matched += 1
        number = self.matched
        if number < self.nth:
            return False
        if self.every is None:
            fire = number < self.nth + (self.times if self.times is not None else 1)
        else:
            fire = (number - self.nth) % self.every == 0 and (
                self.times is None or self.fired < self.times
            )
        if fire:
            self.fired += 1
        return fire


def _parts(path_contains: str | tuple[str, ...] | None) -> tuple[str, ...]:
    if path_contains is None:
        return ()
    return (path_contains,) if isinstance(path_contains, str) else path_contains


@dataclass(frozen=True)
class Event:
    """One request the proxy received: where, what, and what it did with it."""

    conn: int  # connection number (1, 2, ...)
    number: int  # request number on that connection (1 = first)
    method: str
    target: str  # URL-decoded request target (path and query)
    fault: str | None  # the fault applied, if any
    status: int | None = None  # the status the client got (None: it got no answer)


@dataclass
class _Message:
    head: bytes  # start line and headers, with the final blank line
    start: str
    headers: dict[str, str] = field(default_factory=dict)


class FaultProxy:
    """A fault-injecting HTTP/1.1 proxy on 127.0.0.1 in front of ``upstream``."""

    def __init__(self, upstream: str, *, name: str = "proxy") -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or parts.hostname is None or parts.port is None:
            raise ValueError(f"upstream must be http://host:port, not {upstream!r}")
        self.name = name
        self.upstream = upstream
        self._up_host, self._up_port = parts.hostname, parts.port
        self.port = 0
        self._lock = threading.Lock()
        self._rules: list[Rule] = []
        self._events: list[Event] = []
        self._conn_ids = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> Self:
        loop = asyncio.new_event_loop()
        started: list[BaseException | None] = []
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._listen())
                started.append(None)
            except BaseException as exc:  # handed to the starting thread
                started.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=run, name=f"fault-{self.name}", daemon=True)
        self._thread.start()
        ready.wait(30)
        if not started or started[0] is not None:
            raise RuntimeError(f"fault proxy {self.name} did not start: {started}")
        return self

    async def _listen(self) -> None:
        last: OSError | None = None
        for _ in range(20):
            port = free_port()
            try:
                self._server = await asyncio.start_server(
                    self._serve, "127.0.0.1", port, limit=HEAD_LIMIT
                )
            except OSError as exc:
                last = exc
                continue
            self.port = port
            return
        raise RuntimeError(f"no port for the fault proxy: {last}")

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        self._loop = self._thread = None

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # ------------------------------------------------------------------ schedule
    def plan(
        self,
        fault: Fault,
        *,
        method: str | None = None,
        path_contains: str | tuple[str, ...] | None = None,
        body_contains: bytes | None = None,
        reused: bool | None = None,
        nth: int = 1,
        times: int | None = None,
        every: int | None = None,
        status: int = 503,
        seconds: float = 1.0,
    ) -> Rule:
        """Add a fault rule (see the module docstring); returns it (``.fired`` counts)."""
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; one of {sorted(FAULTS)}")
        if nth < 1 or (times is not None and times < 1) or (every is not None and every < 1):
            raise ValueError("nth, times and every must be at least 1")
        rule = Rule(
            fault=fault,
            method=method.upper() if method else None,
            path_contains=path_contains,
            body_contains=body_contains,
            reused=reused,
            nth=nth,
            times=times,
            every=every,
            status=status,
            seconds=seconds,
        )
        with self._lock:
            self._rules.append(rule)
        return rule

    def reset(self) -> None:
        """Forget every rule and every recorded event (between tests)."""
        with self._lock:
            self._rules.clear()
            self._events.clear()

    @property
    def events(self) -> list[Event]:
        with self._lock:
            return list(self._events)

    def fired(self, fault: str | None = None) -> int:
        """How many requests got ``fault`` (any fault if None) since the last reset."""
        return sum(
            1 for e in self.events if e.fault is not None and (fault is None or e.fault == fault)
        )

    def seen(self, method: str | None = None, path_contains: str | None = None) -> int:
        """How many requests matching ``method`` / ``path_contains`` arrived."""
        return sum(
            1
            for e in self.events
            if (method is None or e.method == method.upper())
            and (path_contains is None or path_contains in e.target)
        )

    def _decide(self, method: str, target: str, body: bytes, reused: bool) -> Rule | None:
        chosen: Rule | None = None
        with self._lock:
            for rule in self._rules:
                if rule.matches(method, target, body, reused) and rule.count() and chosen is None:
                    chosen = rule
        return chosen

    def _record(self, event: Event) -> None:
        with self._lock:
            self._events.append(event)

    # ------------------------------------------------------------------ serving
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        conn = next(self._conn_ids)
        link = _Upstream(self._up_host, self._up_port)
        try:
            number = 0
            while (request := await _read_head(reader)) is not None:
                number += 1
                if not await self._exchange(conn, number, request, reader, writer, link):
                    return
        except (
            ConnectionError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            ValueError,
            OSError,
        ):
            return  # a client or server that went away, or garbage: drop the connection
        finally:
            link.close()
            if not writer.is_closing():
                writer.close()
            self._tasks.discard(task)

    async def _exchange(
        self,
        conn: int,
        number: int,
        request: _Message,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        link: _Upstream,
    ) -> bool:
        """Serve one request; False when the client connection must close after it."""
        head = request.head
        if request.headers.get("expect", "").lower() == "100-continue":
            # Answer the interim response here and forward without Expect: the server
            # then sees one plain request.
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            await writer.drain()
            head = _without_header(head, "expect")
        body, _ = await _read_body(reader, request.headers, is_request=True)
        method, _, rest = request.start.partition(" ")
        target = unquote(rest.rpartition(" ")[0])
        rule = self._decide(method, target, body, reused=number > 1)
        fault = rule.fault if rule is not None else None
        client_close = _wants_close(request, is_request=True)

        def record(status: int | None, what: str | None = fault) -> None:
            # Before the client can see the answer: a test asserting on events right
            # after its call never misses the last one.
            self._record(Event(conn, number, method, target, what, status))

        if rule is not None and rule.fault == "status":
            record(rule.status)
            writer.write(_status_response(rule.status, head_only=method == "HEAD"))
            await writer.drain()
            return not client_close
        response, rbody, until_close = await link.exchange(head + body, method)
        if response is None:
            record(None, "upstream_closed")
            return False
        if rule is not None and rule.fault == "drop_response":
            record(None)
            return False
        if rule is not None and rule.fault == "reset_mid_body":
            record(None)
            writer.write(response.head + rbody[: len(rbody) // 2])
            await writer.drain()
            await asyncio.sleep(0.05)  # let the partial answer reach the client
            _reset(writer)
            return False
        record(_status(response))
        if rule is not None and rule.fault == "delay":
            await asyncio.sleep(rule.seconds)
        out = response.head
        if _wants_close(response, is_request=False) or until_close:
            link.close()
            if until_close or not response.start.startswith("HTTP/1.1"):
                client_close = True
            else:
                # moto (werkzeug) closes after every answer; real clouds keep connections
                # alive, and so does the proxy towards the client (the next request opens
                # a new upstream connection), so clients reuse connections as in production.
                out = _without_header(out, "connection")
        writer.write(out + rbody)
        await writer.drain()
        return not client_close


class _Upstream:
    """The proxy's connection to the server for one client connection, opened on demand."""

    IDLE = 2.0  # reconnect after this many idle seconds (servers close idle connections)

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._pair: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self._used = 0.0

    async def exchange(self, data: bytes, method: str) -> tuple[_Message | None, bytes, bool]:
        """Send one request; the whole answer (head, body as framed, ran-to-EOF)."""
        loop = asyncio.get_running_loop()
        if self._pair is None or self._pair[0].at_eof() or loop.time() - self._used > self.IDLE:
            self.close()
            self._pair = await asyncio.open_connection(self.host, self.port, limit=HEAD_LIMIT)
        reader, writer = self._pair
        writer.write(data)
        await writer.drain()
        response = await _read_head(reader)
        while response is not None and 100 <= _status(response) < 200:
            response = await _read_head(reader)  # interim answers
        if response is None:
            self.close()
            return None, b"", False
        no_body = method == "HEAD" or _status(response) in (204, 304)
        body, until_close = await _read_body(
            reader, response.headers, is_request=False, no_body=no_body
        )
        self._used = loop.time()
        return response, body, until_close

    def close(self) -> None:
        if self._pair is not None:
            self._pair[1].close()
            self._pair = None


# ---------------------------------------------------------------------- HTTP/1.1 framing
async def _read_head(reader: asyncio.StreamReader) -> _Message | None:
    """The next message head, or None on a clean EOF before one starts."""
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial.strip():
            return None
        raise
    lines = raw.decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, _, value = line.partition(":")
        key = name.strip().lower()
        value = value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return _Message(head=raw, start=lines[0], headers=headers)


async def _read_body(
    reader: asyncio.StreamReader,
    headers: dict[str, str],
    *,
    is_request: bool,
    no_body: bool = False,
) -> tuple[bytes, bool]:
    """The body as framed on the wire (chunked stays chunked), and whether it ran to EOF."""
    if no_body:
        return b"", False
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return await _read_chunked(reader), False
    if "content-length" in headers:
        return await reader.readexactly(int(headers["content-length"])), False
    if is_request:
        return b"", False
    return await reader.read(), True  # a response framed by closing the connection


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    out = bytearray()
    while True:
        line = await reader.readuntil(b"\r\n")
        out += line
        size = int(line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            while True:  # trailers, up to the blank line
                line = await reader.readuntil(b"\r\n")
                out += line
                if line == b"\r\n":
                    return bytes(out)
        out += await reader.readexactly(size + 2)


def _status(message: _Message) -> int:
    parts = message.start.split(" ", 2)
    return int(parts[1])


def _wants_close(message: _Message, *, is_request: bool) -> bool:
    connection = message.headers.get("connection", "").lower()
    if "close" in connection:
        return True
    version = message.start.rsplit(" ", 1)[-1] if is_request else message.start.split(" ", 1)[0]
    return version == "HTTP/1.0" and "keep-alive" not in connection


def _without_header(head: bytes, name: str) -> bytes:
    lines = head.split(b"\r\n")
    prefix = name.encode("latin-1").lower() + b":"
    return b"\r\n".join(line for line in lines if not line.lower().startswith(prefix))


def _status_response(status: int, *, head_only: bool) -> bytes:
    reason = _REASONS.get(status, "Fault")
    code = "SlowDown" if status == 503 else "TooManyRequests" if status == 429 else "Fault"
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
        f"<Message>injected by the fault proxy</Message></Error>"
    ).encode()
    length = 0 if head_only else len(body)
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/xml\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode("latin-1")
    return head if head_only else head + body


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST (SO_LINGER 0), not FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
