"""What the benchmark scripts share: emulators, timing loops and the result table."""

from __future__ import annotations

import asyncio
import importlib
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

EMULATOR_MODULES = {
    "s3": "tests.emulators.moto_s3",
    "azure": "tests.emulators.azurite",
    "gcs": "tests.emulators.fake_gcs",
}
RAW_CLASSES = {
    "s3": ("benchmarks.raw.s3", "RawS3"),
    "azure": ("benchmarks.raw.azure", "RawAzure"),
    "gcs": ("benchmarks.raw.gcs", "RawGCS"),
}
console = Console(width=150)


@contextmanager
def emulator(cloud: str) -> Iterator[Callable[[], str]]:
    """Start one cloud's emulator; yield a function that makes a fresh bucket URL."""
    module = importlib.import_module(EMULATOR_MODULES[cloud])
    with tempfile.TemporaryDirectory(prefix=f"bench-{cloud}-") as log_dir:
        running = module.start(Path(log_dir))
        try:
            yield lambda: str(module.new_bucket_url(running))
        finally:
            running.stop()


def raw_client(cloud: str, url: str) -> Any:
    """The raw-SDK baseline for ``cloud`` at ``url``."""
    module_name, class_name = RAW_CLASSES[cloud]
    return getattr(importlib.import_module(module_name), class_name)(url)


async def rate(op: Callable[[int], Awaitable[object]], count: int, concurrency: int) -> float:
    """Run ``op(0..count-1)`` with ``concurrency`` workers; return operations per second."""
    next_index = 0

    async def worker() -> None:
        nonlocal next_index
        while next_index < count:
            index = next_index
            next_index += 1
            await op(index)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return count / (time.perf_counter() - started)


def print_table(title: str, columns: list[str], rows: list[list[str]]) -> None:
    table = Table(title=title)
    for column in columns:
        table.add_column(column, justify="right" if column != columns[0] else "left")
    for row in rows:
        table.add_row(*row)
    console.print(table)
