"""One process of the cross-process lock test: connects, waits until all ``workers``
are ready (a file each in ``ready_dir``), then asks DIR's ResourceLockManager for
``amount`` of ``cash`` (capacity 10) through our storage and prints the result."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from dir_core.resource_lock import ResourceLockManager

from cloudstores.adapters.dir_core import BucketResourceLockStorage


def main(url: str, dfid: str, amount: float, ready_dir: Path, workers: int) -> None:
    storage = BucketResourceLockStorage.from_url(url, workspace="race")
    try:
        storage.get_locked_amount("warm-up", dfid)  # open the client before the start
        manager = ResourceLockManager(availability_provider=lambda rid: 10.0, storage=storage)
        (ready_dir / dfid).touch()
        while len(list(ready_dir.iterdir())) < workers:
            time.sleep(0.01)
        print(manager.acquire(dfid, {"cash": amount}, timeout_sec=120).value, flush=True)
    finally:
        storage.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]), Path(sys.argv[4]), int(sys.argv[5]))
