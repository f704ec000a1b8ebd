"""Start and stop the cloud emulators the tests run against, on 127.0.0.1 free ports.

Each backend module (``moto_s3``, ``azurite``, ``fake_gcs``) has ``start(log_dir)``
returning a running :class:`Emulator`, and ``new_bucket_url(emulator)`` creating a fresh
bucket/container and returning its cloudstores URL.
"""

from __future__ import annotations

import contextlib
import random
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Emulator", "free_port", "launch", "stop_process", "wait_until_answers"]


@dataclass
class Emulator:
    """A running emulator: where it listens, its log file, how to stop it."""

    name: str
    endpoint: str
    log_path: Path
    stop: Callable[[], None]
    extra: dict[str, str] = field(default_factory=dict)

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(text[-lines:])


def free_port() -> int:
    """A free TCP port below the ephemeral range (32768+), so client sockets never collide."""
    rng = random.Random()
    for _ in range(200):
        port = rng.randint(20000, 32000)
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port found in 20000-32000")


def wait_until_answers(
    url: str, *, timeout: float = 60.0, proc: subprocess.Popen[bytes] | None = None
) -> None:
    """Poll ``url`` until any HTTP answer (even an error status) comes back."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            code = proc.returncode
            raise RuntimeError(f"emulator exited with code {code} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answered
        except (urllib.error.URLError, OSError) as exc:
            last = exc
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout} s: {last}")


def stop_process(proc: subprocess.Popen[bytes], *, grace: float = 3.0) -> None:
    """SIGTERM, then SIGKILL after ``grace`` seconds (Azurite and fake-gcs-server linger)."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        proc.wait(10)


def launch(
    name: str,
    cmd: list[str],
    *,
    endpoint: str,
    probe: str,
    log_path: Path,
    extra: dict[str, str] | None = None,
) -> Emulator:
    """Start ``cmd`` with its output in ``log_path``; return once ``probe`` answers.

    The child keeps its own copy of the log descriptor, so ours is closed at once. If
    the emulator never answers (or dies first), it is stopped before the error rises.
    """
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        # 60 s was too short for Azurite on a machine loaded 10x over (seen twice here)
        wait_until_answers(probe, timeout=180.0, proc=proc)
    except BaseException:
        stop_process(proc)
        raise
    return Emulator(
        name=name,
        endpoint=endpoint,
        log_path=log_path,
        stop=lambda: stop_process(proc),
        extra=extra or {},
    )
