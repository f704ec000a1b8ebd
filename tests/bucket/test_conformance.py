"""One conformance suite, run on every backend (memory, file, s3, azure, gcs).

Modelled on Apache Arrow object_store's integration tests: each test body is written
once against the ``Bucket`` interface and parametrized over the backends by the
``bucket`` fixture in conftest.py.
"""

from __future__ import annotations

import asyncio

import pytest

import cloudstores
from cloudstores import IfMatch
from cloudstores.errors import (
    AlreadyExistsError,
    InvalidInputError,
    InvalidKeyError,
    NotFoundError,
    PreconditionFailedError,
    StoreError,
)
from cloudstores.testing import FaultyBucket


async def test_put_get_head_round_trip(bucket: cloudstores.Bucket) -> None:
    version = await bucket.put(
        "a/b.json",
        b'{"x": 1}',
        content_type="application/json",
        metadata={"run_id": "r1", "kind": "artifact"},
    )
    obj = await bucket.get("a/b.json")
    assert obj.data == b'{"x": 1}'
    assert obj.key == "a/b.json"
    assert obj.version == version
    assert obj.content_type == "application/json"
    assert dict(obj.metadata) == {"run_id": "r1", "kind": "artifact"}
    info = await bucket.head("a/b.json")
    assert info.size == 8
    assert info.version == version
    assert info.content_type == "application/json"
    assert dict(info.metadata) == {"run_id": "r1", "kind": "artifact"}
    assert info.last_modified is not None


async def test_empty_body(bucket: cloudstores.Bucket) -> None:
    await bucket.put("empty", b"")
    assert (await bucket.get("empty")).data == b""
    assert (await bucket.head("empty")).size == 0


async def test_create_only_rejects_second_write(bucket: cloudstores.Bucket) -> None:
    await bucket.put("once", b"first")
    with pytest.raises(AlreadyExistsError) as caught:
        await bucket.put("once", b"second")
    assert "once" in str(caught.value)
    assert (await bucket.get("once")).data == b"first"


async def test_twenty_concurrent_creators_one_winner(bucket: cloudstores.Bucket) -> None:
    async def create(i: int) -> int | None:
        try:
            await bucket.put("race", f"writer-{i}".encode())
        except AlreadyExistsError:
            return None
        return i

    results = await asyncio.gather(*(create(i) for i in range(20)))
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    assert (await bucket.get("race")).data == f"writer-{winners[0]}".encode()


async def test_if_match_stale_rejected_fresh_wins(bucket: cloudstores.Bucket) -> None:
    v1 = await bucket.put("cas", b"1")
    v2 = await bucket.put("cas", b"2", mode=IfMatch(v1))
    assert v2 != v1
    with pytest.raises(PreconditionFailedError):
        await bucket.put("cas", b"stale", mode=IfMatch(v1))
    v3 = await bucket.put("cas", b"3", mode=IfMatch(v2))
    obj = await bucket.get("cas")
    assert obj.data == b"3"
    assert obj.version == v3


async def test_if_match_on_missing_key(bucket: cloudstores.Bucket) -> None:
    version = await bucket.put("gone", b"x")
    await bucket.delete("gone")
    with pytest.raises((NotFoundError, PreconditionFailedError)):
        await bucket.put("gone", b"y", mode=IfMatch(version))


async def test_overwrite(bucket: cloudstores.Bucket) -> None:
    await bucket.put("over", b"1")
    await bucket.put("over", b"2", mode="overwrite")
    assert (await bucket.get("over")).data == b"2"


async def test_concurrent_cas_counter_reaches_fifty(bucket: cloudstores.Bucket) -> None:
    await bucket.put("counter", b"0")

    async def worker() -> None:
        done = 0
        while done < 10:
            current = await bucket.get("counter")
            value = int(current.data) + 1
            try:
                await bucket.put("counter", str(value).encode(), mode=IfMatch(current.version))
            except PreconditionFailedError:
                continue
            done += 1

    await asyncio.gather(*(worker() for _ in range(5)))
    assert int((await bucket.get("counter")).data) == 50


async def test_list_many_keys_across_pages(bucket_url: str, backend: str) -> None:
    # Pages of 100 keys (crossing pages is the point, not their size: 250 keys, not
    # 2,500, on the backends that take a page_size); the file backend lists 1,000 a page.
    page = 1000 if backend == "file" else 100
    options = {} if backend == "file" else {"page_size": page}
    async with cloudstores.open_bucket(bucket_url, **options) as bucket:
        await _list_many_keys(bucket, page)


async def _list_many_keys(bucket: cloudstores.Bucket, page: int) -> None:
    keys = [f"many/{i:05d}" for i in range(page * 5 // 2)]
    sem = asyncio.Semaphore(32)

    async def put(key: str) -> None:
        async with sem:
            await bucket.put(key, b"x")

    await asyncio.gather(*(put(k) for k in keys))
    await bucket.put("other/zzz", b"x")
    await bucket.put("manyx", b"x")

    before = bucket.requests["list"]
    listed = [info.key async for info in bucket.list("many/")]
    assert listed == keys
    assert bucket.requests["list"] - before >= 3  # it did cross pages
    assert [info.size async for info in bucket.list("many/0000")] == [1] * 10

    # start_after is exclusive, and works across a page boundary
    after = [info.key async for info in bucket.list("many/", start_after=keys[page - 1])]
    assert after == keys[page:]
    after = [info.key async for info in bucket.list("many/", start_after=keys[page * 3 // 2])]
    assert after == keys[page * 3 // 2 + 1 :]
    # a start_after that is not itself a key
    after = [info.key async for info in bucket.list("many/", start_after=keys[-1] + "x")]
    assert after == []


async def test_list_prefix_boundaries(bucket: cloudstores.Bucket) -> None:
    for key in ["p/a", "p/b/c", "p.x", "p/bb", "q"]:
        await bucket.put(key, b"x")
    assert [i.key async for i in bucket.list("p/")] == ["p/a", "p/b/c", "p/bb"]
    assert [i.key async for i in bucket.list("p/b")] == ["p/b/c", "p/bb"]
    assert [i.key async for i in bucket.list("")] == ["p.x", "p/a", "p/b/c", "p/bb", "q"]
    assert [i.key async for i in bucket.list("nothing/")] == []
    # a prefix whose last character follows "/" ("0" is "/" + 1): the character just
    # below it is the separator, which no engine may turn into an empty path segment
    for key in ["n/0001", "n/0002", "n/1", "n/-"]:
        await bucket.put(key, b"x")
    assert [i.key async for i in bucket.list("n/0")] == ["n/0001", "n/0002"]


async def test_list_limit_asks_for_no_more_than_it_yields(bucket: cloudstores.Bucket) -> None:
    for key in ["lim/a", "lim/b", "lim/c", "lim/d", "limx"]:
        await bucket.put(key, b"x")
    pages: list[int] = []
    inner = bucket._list_page

    async def recording(*args: object) -> tuple[list[object], object]:
        items, token = await inner(*args)  # type: ignore[arg-type]
        pages.append(len(items))
        return items, token  # type: ignore[return-value]

    bucket._list_page = recording  # type: ignore[method-assign]
    bucket.requests.clear()
    assert [i.key async for i in bucket.list("lim/", limit=1)] == ["lim/a"]
    assert [i.key async for i in bucket.list("lim/", limit=2, start_after="lim/a")] == [
        "lim/b",
        "lim/c",
    ]
    assert [i.key async for i in bucket.list("lim/", limit=9)] == [
        "lim/a",
        "lim/b",
        "lim/c",
        "lim/d",
    ]
    assert bucket.requests["list"] == 3
    if "obstore" not in type(bucket.driver).__module__:  # object_store pages its own way
        # (Azure's start_from and GCS's startOffset are inclusive: one more, start_after)
        assert pages[0] == 1 and pages[1] <= 3
    for bad in (0, -1, True, 1.5):
        with pytest.raises(InvalidInputError):
            async for _ in bucket.list("lim/", limit=bad):  # type: ignore[arg-type]
                pass
    assert bucket.requests["list"] == 3


async def test_key_that_is_also_a_prefix(bucket: cloudstores.Bucket) -> None:
    # Object stores hold both "d/e" and "d/e/f"; a directory tree cannot. The file
    # backend says so with a clear InvalidKeyError (as object_store's LocalFileSystem).
    await bucket.put("d/e/f", b"x")
    if bucket.scheme == "file":
        with pytest.raises(InvalidKeyError, match="collides"):
            await bucket.put("d/e", b"x")
        return
    await bucket.put("d/e", b"x")
    assert [i.key async for i in bucket.list("d/")] == ["d/e", "d/e/f"]


async def test_not_found(bucket: cloudstores.Bucket) -> None:
    with pytest.raises(NotFoundError) as caught:
        await bucket.get("missing/key")
    assert "missing/key" in str(caught.value)
    with pytest.raises(NotFoundError):
        await bucket.head("missing/key")
    with pytest.raises(NotFoundError):
        await bucket.delete("missing/key")


async def test_delete(bucket: cloudstores.Bucket) -> None:
    await bucket.put("del/me", b"x")
    await bucket.delete("del/me")
    with pytest.raises(NotFoundError):
        await bucket.get("del/me")
    assert [i.key async for i in bucket.list("del/")] == []
    await bucket.put("del/me", b"again")  # create-only works again after a delete


@pytest.mark.parametrize(
    "key",
    [
        "unicode/ünïcödé ключ 鍵.json",
        "spaces/a b  c.json",
        "chars/a+b=c&d@e,f;g!h'i(j)~k.json",
        "deep/" + "d/" * 40 + "x",
    ],
)
async def test_unusual_but_valid_keys(bucket: cloudstores.Bucket, key: str) -> None:
    await bucket.put(key, b"v", metadata={"note": "ok"})
    assert (await bucket.get(key)).data == b"v"
    assert (await bucket.head(key)).metadata == {"note": "ok"}
    assert [i.key async for i in bucket.list(key.split("/")[0] + "/")] == [key]


@pytest.mark.parametrize(
    "key",
    [
        "",
        "/abs",
        "a/../b",
        "..",
        "a//b",
        "./a",
        "a/./b",
        "trail/",
        "x" * 1025,
        "é" * 513,
        "ctl\x00char",
        "tab\there",
        "back\\slash",
    ],
)
async def test_bad_keys_rejected_before_any_request(bucket: cloudstores.Bucket, key: str) -> None:
    with pytest.raises(InvalidKeyError):
        await bucket.put(key, b"x")
    with pytest.raises(InvalidKeyError):
        await bucket.get(key)
    with pytest.raises(InvalidKeyError):
        await bucket.head(key)
    with pytest.raises(InvalidKeyError):
        await bucket.delete(key)
    assert sum(bucket.requests.values()) == 0


async def test_bad_body_and_metadata_rejected(bucket: cloudstores.Bucket) -> None:
    with pytest.raises(InvalidInputError):
        await bucket.put("k", "text, not bytes")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        await bucket.put("k", b"x", metadata={"Bad-Key": "v"})
    with pytest.raises(InvalidInputError):
        await bucket.put("k", b"x", metadata={"ok": "nön-ascii"})
    with pytest.raises(InvalidInputError):
        await bucket.put("k", b"x", mode="sometimes")  # type: ignore[arg-type]
    assert sum(bucket.requests.values()) == 0
    with pytest.raises(NotFoundError):
        await bucket.head("k")


async def test_request_counts(bucket: cloudstores.Bucket) -> None:
    await bucket.put("count", b"x")
    bucket.requests.clear()
    await bucket.get("count")
    assert dict(bucket.requests) == {"get": 1}
    bucket.requests.clear()
    await bucket.head("count")
    assert dict(bucket.requests) == {"head": 1}
    bucket.requests.clear()
    await bucket.put("count2", b"x")
    assert dict(bucket.requests) == {"put": 1}


async def test_errors_are_one_tree(bucket: cloudstores.Bucket) -> None:
    with pytest.raises(StoreError) as caught:
        await bucket.get("nope")
    assert caught.value.key is not None and caught.value.key.endswith("nope")
    assert caught.value.bucket


async def test_after_success_timeouts_create_exactly_once(bucket: cloudstores.Bucket) -> None:
    flaky = FaultyBucket(
        bucket,
        after=0.2,
        seed=42,
        retry=cloudstores.RetryConfig(initial_backoff=0.001, max_backoff=0.01),
    )
    sem = asyncio.Semaphore(16)

    async def put(i: int) -> None:
        async with sem:
            await flaky.put(f"faulty/{i:04d}", f"body-{i}".encode())

    results = await asyncio.gather(*(put(i) for i in range(200)), return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)]
    assert failures == []  # no false AlreadyExists reached the caller
    assert flaky.injected["after"] >= 20
    listed = [i.key async for i in bucket.list("faulty/")]
    assert listed == [f"faulty/{i:04d}" for i in range(200)]
    for i in (0, 57, 199):
        assert (await bucket.get(f"faulty/{i:04d}")).data == f"body-{i}".encode()


async def test_faults_before_and_throttling_are_retried(bucket: cloudstores.Bucket) -> None:
    flaky = FaultyBucket(
        bucket,
        before=0.2,
        throttle=0.1,
        reset=0.1,
        seed=3,
        retry=cloudstores.RetryConfig(initial_backoff=0.001, max_backoff=0.01, max_attempts=20),
    )
    for i in range(30):
        await flaky.put(f"retry/{i}", b"x")
    assert [i.key async for i in flaky.list("retry/")] == sorted(f"retry/{i}" for i in range(30))
    assert (await flaky.get("retry/7")).data == b"x"
    assert sum(flaky.injected.values()) > 0


async def test_cas_after_success_timeout_is_reconciled(bucket: cloudstores.Bucket) -> None:
    flaky = FaultyBucket(
        bucket,
        after=1.0,
        ops={"put"},
        seed=1,
        retry=cloudstores.RetryConfig(initial_backoff=0.001, max_backoff=0.01),
    )
    v1 = await bucket.put("cas-faulty", b"1")
    v2 = await flaky.put("cas-faulty", b"2", mode=IfMatch(v1))
    current = await bucket.get("cas-faulty")
    assert current.data == b"2"
    assert current.version == v2


async def test_hidden_resend_of_create_is_not_a_conflict(bucket: cloudstores.Bucket) -> None:
    # The HTTP client re-sends a create whose answer was lost; the re-send meets our own
    # object. The Bucket must see its put-id and report success, exactly once.
    flaky = FaultyBucket(
        bucket,
        resend=1.0,
        seed=5,
        retry=cloudstores.RetryConfig(initial_backoff=0.001, max_backoff=0.01),
    )
    version = await flaky.put("resent/create", b"once")
    assert flaky.injected["resend"] == 1
    obj = await bucket.get("resent/create")
    assert obj.data == b"once" and obj.version == version
    with pytest.raises(AlreadyExistsError):  # another writer's object is still a conflict
        await flaky.put("resent/create", b"twice")


async def test_hidden_resend_of_if_match_is_not_a_conflict(bucket: cloudstores.Bucket) -> None:
    v1 = await bucket.put("resent/cas", b"1")
    flaky = FaultyBucket(
        bucket,
        resend=1.0,
        seed=5,
        retry=cloudstores.RetryConfig(initial_backoff=0.001, max_backoff=0.01),
    )
    v2 = await flaky.put("resent/cas", b"2", mode=IfMatch(v1))
    obj = await bucket.get("resent/cas")
    assert obj.data == b"2" and obj.version == v2
    with pytest.raises(PreconditionFailedError):
        await flaky.put("resent/cas", b"3", mode=IfMatch(v1))


async def test_if_match_on_deleted_key_is_not_found(bucket: cloudstores.Bucket) -> None:
    version = await bucket.put("cas-gone", b"x")
    await bucket.delete("cas-gone")
    bucket.requests.clear()
    with pytest.raises(NotFoundError):
        await bucket.put("cas-gone", b"y", mode=IfMatch(version))
