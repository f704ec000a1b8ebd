"""``verify`` on the store whose own background checkpoint (``checkpoint_every``) is
written while it runs: the checkpoint lands after verify listed the checkpoints, and
before verify compares what it listed with what the store trusts. That is no rollback
(it once reported one); the next verify (which first waits for the store's checkpoints
in flight) sees the new checkpoint and is clean too.

The interleaving is forced, not timed: the bucket's ``list`` and ``put`` are wrapped so
the checkpoint PUT completes between verify's LIST of checkpoints and its LIST of
entries (on the five backends)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import cloudstores
from cloudstores.stores.audit import AuditOptions, AuditStore, Ed25519Signer
from cloudstores.stores.audit.layout import StreamKeys

SIGNER = Ed25519Signer.from_bytes(bytes(range(50, 82)))
OPTIONS = AuditOptions(checkpoint_every=10, checkpoint_interval=None, checkpoint_on_close=False)


async def test_verify_during_own_background_checkpoint(bucket: cloudstores.Bucket) -> None:
    keys = StreamKeys("default", "s")
    written = asyncio.Event()
    tasks: list[asyncio.Task[Any]] = []
    inner_list, inner_put = bucket.list, bucket.put
    armed = {"cp": False, "entries": False}

    async with AuditStore(bucket, signer=SIGNER, options=OPTIONS) as audit:

        async def listing(prefix: str = "", **kw: Any) -> AsyncIterator[Any]:
            if armed["entries"] and prefix == keys.e_prefix:
                armed["entries"] = False
                await written.wait()  # verify lists the entries once checkpoint 10 is in
            async for info in inner_list(prefix, **kw):
                yield info
            if armed["cp"] and prefix == keys.cp_prefix and kw.get("start_after") is None:
                armed["cp"], armed["entries"] = False, True
                # verify has listed the checkpoints: now entries 5..9 are appended, and
                # their background checkpoint at 10 is written
                tasks.append(asyncio.ensure_future(audit.append_many("s", five(5))))

        async def putting(key: str, *args: Any, **kw: Any) -> Any:
            result = await inner_put(key, *args, **kw)
            if key == keys.checkpoint(10):
                written.set()
            return result

        def five(start: int) -> list[dict[str, int]]:
            return [{"i": i} for i in range(start, start + 5)]

        bucket.list = listing  # type: ignore[method-assign]
        bucket.put = putting  # type: ignore[method-assign]
        await audit.append_many("s", five(0))
        armed["cp"] = True
        report = await audit.verify("s")
        await asyncio.gather(*tasks)
        assert written.is_set() and not armed["cp"] and not armed["entries"]
        assert report.ok and report.size == 10, report.summary()
        again = await audit.verify("s")
        assert again.ok and again.last_checkpoint == 10, again.summary()
