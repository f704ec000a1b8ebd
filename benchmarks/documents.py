"""Document store vs the raw SDK (moto, Azurite), each pair in the same run.

    .venv/bin/python benchmarks/documents.py [--updates 256] [--docs 10000] [s3 azure]

1. ``update`` of one hot document by 64 concurrent tasks (``--updates`` in all): our
   ``DocumentStore.update`` (create-only numbered versions; updates made at the same time
   in one process go into one version) vs the raw SDK doing the usual conditional-write
   CAS loop on one object (GET with its ETag, PUT If-Match, on 412/409 start again).
   Updates per second, PUTs per update (every PUT sent, lost races included; ours also
   counts the index segments) and client CPU per update.
2. ``query`` of one team (1% of ``--docs`` documents) vs a full scan: the raw SDK LISTs
   the collection and GETs every object, then filters. Ours cold (a new store object:
   the index manifest, the chunks that can match, the tail; then one GET per document
   returned) and warm (the same store again).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from _harness import emulator, print_table, rate, raw_client

import cloudstores
from cloudstores import codec
from cloudstores.stores.documents import DocumentStore

TASKS = 64
FIELDS = {"team": "string", "score": "number"}
TEAMS = 100


def add(value: dict[str, Any]) -> dict[str, Any]:
    return {**value, "n": value["n"] + 1}


# ---------------------------------------------------------------------- raw CAS loops
class RawCas:
    """A GET-ETag / PUT-If-Match loop on one object, straight on the SDK client."""

    def __init__(self, cloud: str, raw: Any) -> None:
        self.cloud = cloud
        self.raw = raw
        self.puts = 0
        self.errors = 0

    async def create(self, key: str, data: bytes) -> None:
        await self.raw.put(key, data)

    async def _get(self, key: str) -> tuple[bytes, str]:
        if self.cloud == "s3":
            response = await self.raw._client.get_object(
                Bucket=self.raw.bucket, Key=self.raw._key(key)
            )
            async with response["Body"] as stream:
                return await stream.read(), response["ETag"]
        blob = self.raw._client.get_blob_client(self.raw._name(key))
        downloader = await blob.download_blob()
        return await downloader.readall(), downloader.properties.etag

    async def _put_if(self, key: str, data: bytes, etag: str) -> bool:
        self.puts += 1
        if self.cloud == "s3":
            from botocore.exceptions import ClientError

            try:
                await self.raw._client.put_object(
                    Bucket=self.raw.bucket,
                    Key=self.raw._key(key),
                    Body=data,
                    ContentType="application/json",
                    IfMatch=etag,
                )
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if code in ("PreconditionFailed", "ConditionalRequestConflict"):
                    return False
                raise
            return True
        from azure.core import MatchConditions
        from azure.core.exceptions import HttpResponseError
        from azure.storage.blob import BlobType

        blob = self.raw._client.get_blob_client(self.raw._name(key))
        try:
            await blob.upload_blob(
                data,
                blob_type=BlobType.BLOCKBLOB,
                length=len(data),
                overwrite=True,
                etag=etag,
                match_condition=MatchConditions.IfNotModified,
            )
        except HttpResponseError as exc:
            if exc.status_code in (409, 412):
                return False
            raise
        return True

    async def update(self, key: str) -> None:
        while True:
            try:
                data, etag = await self._get(key)
                if await self._put_if(key, codec.dumps(add(codec.loads(data))), etag):
                    return
            except Exception:  # a transport error (the emulator dropped a connection)
                self.errors += 1
                await asyncio.sleep(0.05)

    async def scan(self, prefix: str, team: str) -> int:
        """LIST everything under ``prefix``, GET every object, keep the team's."""
        keys: list[str] = []
        if self.cloud == "s3":
            paginator = self.raw._client.get_paginator("list_objects_v2")
            async for page in paginator.paginate(
                Bucket=self.raw.bucket, Prefix=self.raw._key(prefix)
            ):
                keys.extend(o["Key"] for o in page.get("Contents", []))
        else:
            async for blob in self.raw._client.list_blobs(name_starts_with=self.raw._name(prefix)):
                keys.append(blob.name)
        gate = asyncio.Semaphore(32)
        strip = len(self.raw.prefix) + 1 if self.raw.prefix else 0

        async def one(key: str) -> bool:
            async with gate:
                body = codec.loads(await self.raw.get(key[strip:]))
            value = body.get("value")
            return isinstance(value, dict) and value.get("team") == team

        return sum(await asyncio.gather(*(one(k) for k in keys)))


async def timed(fn: Any) -> tuple[float, float, Any]:
    """(wall seconds, client CPU seconds, result) of one awaited call."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = await fn()
    return time.perf_counter() - wall, time.process_time() - cpu, result


# ---------------------------------------------------------------------- the two figures
async def hot_updates(cloud: str, new_url: Any, count: int) -> list[list[str]]:
    url = new_url()
    async with cloudstores.open_bucket(url) as bucket:
        docs = DocumentStore(bucket, "bench", fields={"n": "number"})
        await docs.put("hot", {"n": 0})
        await docs.close()
        bucket.requests.clear()
        cpu = time.process_time()
        ours = await rate(lambda _: docs.update("hot", add), count, TASKS)
        await docs.close()
        ours_cpu = (time.process_time() - cpu) / count
        ours_puts = bucket.requests["put"] / count
        final = (await docs.get("hot")).value["n"]
        assert final == count, final
    raw = raw_client(cloud, new_url())
    await raw.open()
    try:
        cas = RawCas(cloud, raw)
        await cas.create("hot.json", codec.dumps({"n": 0}))
        cpu = time.process_time()
        theirs = await rate(lambda _: cas.update("hot.json"), count, TASKS)
        raw_cpu = (time.process_time() - cpu) / count
        raw_final = codec.loads(await raw.get("hot.json"))["n"]
    finally:
        await raw.close()
    return [
        [
            f"{cloud} update, 1 hot doc, {TASKS} tasks"
            + (f" (raw: {cas.errors} errors, n={raw_final})" if cas.errors else ""),
            f"{ours:,.1f}/s",
            f"{theirs:,.2f}/s",
            f"{ours / theirs:.2f}x",
            f"{ours_puts:.2f} / {cas.puts / count:.2f}",
            f"{ours_cpu * 1e3:.2f} / {raw_cpu * 1e3:.2f}",
        ]
    ]


async def query_vs_scan(cloud: str, new_url: Any, total: int) -> list[list[str]]:
    url = new_url()
    team = "t007"
    async with cloudstores.open_bucket(url, max_in_flight=16) as bucket:
        writer = DocumentStore(bucket, "bench", fields=FIELDS)
        await rate(
            lambda i: writer.put(f"d{i:06d}", {"team": f"t{i % TEAMS:03d}", "score": i}),
            total,
            64,
        )
        await writer.close()
        cold_store = DocumentStore(bucket, "bench", fields=FIELDS)
        bucket.requests.clear()
        cold_wall, cold_cpu, page = await timed(lambda: cold_store.query(where={"team": team}))
        cold_requests = sum(bucket.requests.values())
        want = total // TEAMS
        assert len(page.documents) == want, len(page.documents)
        warm_wall, warm_cpu, page = await timed(lambda: cold_store.query(where={"team": team}))
        assert len(page.documents) == want
    raw = raw_client(cloud, url)
    await raw.open()
    try:
        cas = RawCas(cloud, raw)
        scan_wall, scan_cpu, found = await timed(lambda: cas.scan("ws/default/documents/", team))
        assert found == want, found
    finally:
        await raw.close()
    rows = []
    for label, wall, cpu in (("cold", cold_wall, cold_cpu), ("warm", warm_wall, warm_cpu)):
        rows.append(
            [
                f"{cloud} query 1 team of {total:,} docs ({label})",
                f"{1 / wall:,.2f}/s",
                f"{1 / scan_wall:,.3f}/s",
                f"{scan_wall / wall:,.1f}x",
                f"{cold_requests} / {total + (total + 999) // 1000}" if label == "cold" else "",
                f"{cpu * 1e3:,.0f} / {scan_cpu * 1e3:,.0f}",
            ]
        )
    return rows


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--updates", type=int, default=256)
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("clouds", nargs="*", default=["s3", "azure"])
    args = parser.parse_args()
    rows: list[list[str]] = []
    for cloud in args.clouds:
        with emulator(cloud) as new_url:
            rows += await hot_updates(cloud, new_url, args.updates)
            rows += await query_vs_scan(cloud, new_url, args.docs)
    print_table(
        "Documents vs the raw SDK (same emulator, same run)",
        ["operation", "ours", "raw SDK", "ratio", "PUTs/update or requests", "CPU ms ours / raw"],
        rows,
    )


if __name__ == "__main__":
    asyncio.run(main())
