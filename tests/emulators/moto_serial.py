"""moto's S3 server with requests applied one at a time.

moto checks a create-only (``If-None-Match: *``) or ``If-Match`` condition and then
writes the object in two steps without a lock, so two racing writers can both be told
they won. On a loaded machine that window is wide enough to break our exactly-once
tests now and then (seen: two acknowledged audit batches at one sequence number, two
run updates at one version). Real S3 applies conditional writes atomically; this
wrapper gives the emulator the same property by handling one request at a time,
while connections are still accepted by many threads.

Usage: ``python moto_serial.py HOST PORT``.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


class Serialized:
    """A WSGI middleware that runs the app, body included, under one lock."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        with self.lock:
            return list(self.app(environ, start_response))


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    os.environ.setdefault("MOTO_PORT", str(port))  # as moto.server does
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(host, port, Serialized(app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
