"""Reading a stream newest first: the same entries as a forward read, reversed, anchored
at the head; ``limit`` and ``start``/``end``; what the newest few entries cost."""

from __future__ import annotations

from collections import Counter

import pytest

import cloudstores
from cloudstores import codec
from cloudstores.errors import IntegrityError, InvalidInputError
from cloudstores.stores.audit import AuditOptions, AuditStore
from cloudstores.stores.audit.layout import StreamKeys

OPTIONS = AuditOptions(checkpoint_every=None, checkpoint_interval=None)


async def test_backwards_is_forwards_reversed(bucket: cloudstores.Bucket) -> None:
    async with AuditStore(bucket, options=OPTIONS) as audit:
        assert [e async for e in audit.read("b", descending=True)] == []
        for i in range(12):
            if i % 3 == 0:
                await audit.append_many("b", [{"i": i, "j": j} for j in range(i % 5 + 2)])
            else:
                await audit.append("b", {"i": i}, key=f"k{i}" if i % 4 == 1 else None)
        forward = [e async for e in audit.read("b")]
        other = AuditStore(bucket, options=OPTIONS)  # cold
        assert [e async for e in other.read("b", descending=True)] == forward[::-1]
        assert [e async for e in other.read("b", descending=True, limit=5)] == forward[::-1][:5]
        for start, end in ((3, 9), (0, 1), (4, 5), (2, None), (7, 100)):
            got = [e async for e in other.read("b", start, end, descending=True)]
            assert got == [e for e in forward if start <= e.seq < (end or 10**9)][::-1]
        got = [e async for e in other.read("b", 2, 11, descending=True, limit=3)]
        assert [e.seq for e in got] == [10, 9, 8]
        assert [e async for e in other.read("b", limit=2)] == forward[:2]
        with pytest.raises(InvalidInputError):
            [e async for e in other.read("b", descending=1)]  # type: ignore[arg-type]
        await other.close()


async def test_newest_k_cost(bucket: cloudstores.Bucket) -> None:
    async with AuditStore(bucket, options=OPTIONS) as audit:
        for i in range(30):
            await audit.append("c", {"i": i})
        before = Counter(bucket.requests)
        newest = [e async for e in audit.read("c", descending=True, limit=3)]
        assert [e.seq for e in newest] == [29, 28, 27]
        used = Counter(bucket.requests) - before
        # warm head: one GET probe; then one LIST page and one GET per entry
        assert used == Counter(get=1 + 3, list=1)


async def test_backwards_detects_a_changed_entry(bucket: cloudstores.Bucket) -> None:
    async with AuditStore(bucket, options=OPTIONS) as audit:
        for i in range(4):
            await audit.append("d", {"i": i})
        key = StreamKeys("default", "d").entry(1)
        obj = codec.loads((await bucket.get(key)).data)
        obj["entries"][0]["event"] = {"i": 99}
        await bucket.put(key, codec.dumps(obj), mode="overwrite")
        with pytest.raises(IntegrityError):
            [e async for e in audit.read("d", descending=True)]
