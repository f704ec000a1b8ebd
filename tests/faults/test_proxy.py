"""The fault proxy itself, against a tiny stdlib HTTP/1.1 server (no emulator needed)."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from tests.emulators import free_port
from tests.emulators.proxy import FaultProxy


class _Store(BaseHTTPRequestHandler):
    """PUT stores a body, GET returns it (chunked for /chunked/...), HEAD its length."""

    protocol_version = "HTTP/1.1"
    objects: ClassVar[dict[str, bytes]] = {}
    puts: ClassVar[list[str]] = []

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_PUT(self) -> None:
        data = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.objects[self.path] = data
        self.puts.append(self.path)
        self._answer(201, b"")

    def do_GET(self) -> None:
        data = self.objects.get(self.path)
        if data is None:
            self._answer(404, b"missing")
        elif self.path.startswith("/chunked/"):
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (data[:3], data[3:]):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self._answer(200, data)

    def do_HEAD(self) -> None:
        data = self.objects.get(self.path, b"")
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _Store)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def proxy(upstream: str) -> Iterator[FaultProxy]:
    _Store.objects.clear()
    _Store.puts.clear()
    started = FaultProxy(upstream, name="unit").start()
    yield started
    started.stop()


def _conn(proxy: FaultProxy) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)


def _call(
    conn: http.client.HTTPConnection, method: str, path: str, body: bytes | None = None
) -> tuple[int, bytes]:
    conn.request(method, path, body=body)
    response = conn.getresponse()
    return response.status, response.read()


def test_keep_alive_passthrough_of_every_framing(proxy: FaultProxy) -> None:
    conn = _conn(proxy)
    assert _call(conn, "PUT", "/a", b"hello")[0] == 201
    assert _call(conn, "PUT", "/chunked/b", b"chunky body")[0] == 201
    assert _call(conn, "GET", "/a") == (200, b"hello")
    assert _call(conn, "GET", "/chunked/b") == (200, b"chunky body")
    assert _call(conn, "HEAD", "/a") == (200, b"")
    assert _call(conn, "GET", "/nope") == (404, b"missing")
    # Expect: 100-continue is answered by the proxy, the server sees a plain request
    conn.request("PUT", "/x", body=b"expected", headers={"Expect": "100-continue"})
    assert conn.getresponse().read() == b""
    assert _Store.objects["/x"] == b"expected"
    # a chunked request body is forwarded as sent
    conn.putrequest("PUT", "/c")
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    conn.send(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
    assert conn.getresponse().read() == b""
    conn.close()
    events = proxy.events
    assert {e.conn for e in events} == {1}  # one connection, kept alive throughout
    assert [e.number for e in events] == list(range(1, 9))
    assert _call(_conn(proxy), "GET", "/a") == (200, b"hello")
    assert proxy.fired() == 0


def test_drop_response_after_the_server_stored_the_write(proxy: FaultProxy) -> None:
    rule = proxy.plan("drop_response", method="PUT", path_contains="/k", nth=2)
    conn = _conn(proxy)
    assert _call(conn, "PUT", "/k1", b"one")[0] == 201
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        _call(conn, "PUT", "/k2", b"two")
    assert _Store.objects["/k2"] == b"two"  # landed, answer lost
    assert rule.fired == 1
    assert proxy.fired("drop_response") == 1
    assert _call(_conn(proxy), "PUT", "/k3", b"three")[0] == 201  # only the 2nd match


def test_status_burst_is_answered_without_forwarding(proxy: FaultProxy) -> None:
    proxy.plan("status", method="GET", status=503, times=2)
    proxy.plan("status", method="HEAD", status=429)
    conn = _conn(proxy)
    _call(conn, "PUT", "/s", b"x")
    assert _call(conn, "GET", "/s")[0] == 503
    assert _call(conn, "GET", "/s")[0] == 503
    assert _call(conn, "HEAD", "/s") == (429, b"")
    assert _call(conn, "GET", "/s") == (200, b"x")  # same connection, still usable
    assert [e.status for e in proxy.events] == [201, 503, 503, 429, 200]


def test_reset_mid_body_sends_part_then_resets(proxy: FaultProxy) -> None:
    proxy.plan("reset_mid_body", method="GET")
    conn = _conn(proxy)
    _call(conn, "PUT", "/big", b"0123456789" * 1000)
    with pytest.raises((http.client.IncompleteRead, ConnectionError)):
        _call(conn, "GET", "/big")
    assert _call(_conn(proxy), "GET", "/big")[1] == b"0123456789" * 1000


def test_every_nth_reused_and_body_filters(proxy: FaultProxy) -> None:
    every = proxy.plan("status", method="PUT", body_contains=b"hit", nth=2, every=3, status=500)
    conn = _conn(proxy)
    statuses = [
        _call(conn, "PUT", f"/e{i}", b"hit" if i % 2 == 0 else b"miss")[0] for i in range(14)
    ]
    # matches are the even i (0, 2, ..., 12): numbers 1..7; fires on 2, 5
    assert [i for i, s in enumerate(statuses) if s == 500] == [2, 8]
    assert every.matched == 7 and every.fired == 2
    proxy.reset()
    reused = proxy.plan("status", method="GET", reused=True, status=503)
    assert _call(_conn(proxy), "GET", "/e0")[0] == 200  # first on its connection
    second = _conn(proxy)
    _call(second, "HEAD", "/e0")
    assert _call(second, "GET", "/e0")[0] == 503
    assert reused.fired == 1


def test_delay_and_reset(proxy: FaultProxy) -> None:
    proxy.plan("delay", method="GET", seconds=0.01)
    conn = _conn(proxy)
    _call(conn, "PUT", "/d", b"x")
    assert _call(conn, "GET", "/d") == (200, b"x")
    assert proxy.fired("delay") == 1
    proxy.reset()
    assert proxy.events == [] and proxy.fired() == 0
    assert _call(conn, "GET", "/d") == (200, b"x")
    with pytest.raises(ValueError):
        proxy.plan("explode")  # type: ignore[arg-type]
