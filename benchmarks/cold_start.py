"""Cold start: a fresh process that imports, opens an S3 bucket, PUTs and GETs one object.

What a serverless function pays on every cold start. For each side, N fresh Python
processes (alternating sides) each import their client, open a bucket on one moto
server, PUT 1 KiB create-only and GET it back, then report their peak RSS
(``getrusage(RUSAGE_SELF).ru_maxrss``). Wall time is measured by the parent from spawn
to exit (interpreter start included, the same for every side), CPU time (user + system)
from getrusage(RUSAGE_CHILDREN), which a loaded machine disturbs less. Sides:

- ``SDK engine``: ``import cloudstores``, ``open_bucket("s3://..")`` (aioboto3);
- ``obstore engine``: the same with ``engine="obstore"``;
- ``raw obstore``: ``import obstore`` and an ``S3Store``, no cloudstores;
- ``raw aioboto3``: ``import aioboto3`` and a client, no cloudstores.

    .venv/bin/python benchmarks/cold_start.py [--processes 15]
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import statistics
import subprocess
import sys
import time
import uuid

from _harness import REPO, emulator, print_table

from cloudstores.bucket.url import BucketURL

ENGINE = """
import asyncio, resource, sys, cloudstores
async def main():
    async with cloudstores.open_bucket(sys.argv[1]{engine}) as bucket:
        await bucket.put(sys.argv[2], b"x" * 1024)
        assert len((await bucket.get(sys.argv[2])).data) == 1024
asyncio.run(main())
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""
RAW_OBSTORE = """
import asyncio, resource, sys, obstore
from obstore.store import S3Store
async def main():
    store = S3Store(sys.argv[3], endpoint=sys.argv[4], region=sys.argv[5],
                    conditional_put="etag", client_options={"allow_http": True},
                    retry_config={"max_retries": 0})
    await obstore.put_async(store, sys.argv[6], b"x" * 1024, mode="create")
    result = await obstore.get_async(store, sys.argv[6])
    assert len(bytes(await result.bytes_async())) == 1024
asyncio.run(main())
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""
RAW_AIOBOTO3 = """
import asyncio, resource, sys, aioboto3
from aiobotocore.config import AioConfig
async def main():
    config = AioConfig(retries={"total_max_attempts": 1, "mode": "standard"})
    async with aioboto3.Session().client("s3", endpoint_url=sys.argv[4], region_name=sys.argv[5],
                                         config=config) as s3:
        await s3.put_object(Bucket=sys.argv[3], Key=sys.argv[6], Body=b"x" * 1024,
                            IfNoneMatch="*")
        response = await s3.get_object(Bucket=sys.argv[3], Key=sys.argv[6])
        async with response["Body"] as body:
            assert len(await body.read()) == 1024
asyncio.run(main())
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""
SIDES = {
    "SDK engine": ENGINE.format(engine=""),
    "obstore engine": ENGINE.format(engine=', engine="obstore"'),
    "raw obstore": RAW_OBSTORE,
    "raw aioboto3": RAW_AIOBOTO3,
}


def one_process(code: str, url: str) -> tuple[float, float, float, bool]:
    """Run ``code`` in a fresh interpreter; return wall seconds, CPU seconds (user + system),
    peak RSS in MB, and whether it died by a signal after its work succeeded (see
    ``_EXIT_GRACE`` in the obstore engine)."""
    parsed = BucketURL(url)
    key = f"cold/{uuid.uuid4().hex}"  # relative to the URL's prefix; raw sides get it joined
    full = f"{parsed.prefix}/{key}" if parsed.prefix else key
    args = [
        sys.executable,
        "-c",
        code,
        url,
        key,
        parsed.name,
        parsed.options["endpoint_url"],
        parsed.options["region"],
        full,
    ]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            [str(REPO / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]
        ),
    }
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    printed = done.stdout.split()
    if not printed or (done.returncode != 0 and done.stderr.strip()):
        raise RuntimeError(
            f"cold-start child failed ({done.returncode}):\n{done.stdout[-1000:]}"
            f"{done.stderr[-2000:]}"
        )
    return wall, cpu, int(printed[-1]) / 1024, done.returncode < 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--processes", type=int, default=15, help="fresh processes per side")
    args = parser.parse_args()
    names = list(SIDES)
    walls: dict[str, list[float]] = {name: [] for name in names}
    rss: dict[str, list[float]] = {name: [] for name in names}
    cpus: dict[str, list[float]] = {name: [] for name in names}
    aborted: dict[str, int] = dict.fromkeys(names, 0)
    # Byte-compile cloudstores first, as `pip install` does: without it (this machine
    # sets PYTHONDONTWRITEBYTECODE) every child would compile the sources again.
    compileall.compile_dir(str(REPO / "src"), quiet=1)
    with emulator("s3") as new_url:
        url = new_url()
        for i in range(args.processes):
            for name in names if i % 2 == 0 else names[::-1]:
                wall, cpu, peak, killed = one_process(SIDES[name], url)
                walls[name].append(wall)
                cpus[name].append(cpu)
                rss[name].append(peak)
                aborted[name] += killed
    sdk = statistics.median(walls["SDK engine"])
    raw = statistics.median(walls["raw obstore"])
    raw_cpu = statistics.median(cpus["raw obstore"])
    rows = []
    for name in names:
        wall, cpu = statistics.median(walls[name]), statistics.median(cpus[name])
        rows.append(
            [
                name,
                f"{wall:.3f}",
                f"{min(walls[name]):.3f}",
                f"{cpu:.3f}",
                f"{statistics.median(rss[name]):.0f}",
                f"{max(rss[name]):.0f}",
                f"{wall / sdk:.2f}",
                f"{wall / raw:.2f}",
                f"{cpu / raw_cpu:.2f}",
                str(aborted[name]),
            ]
        )
    print_table(
        f"Cold start: fresh process, import + open s3 bucket (moto) + PUT + GET 1 KiB, "
        f"{args.processes} processes per side, alternating",
        [
            "side",
            "median wall s",
            "min wall s",
            "median CPU s",
            "median peak RSS MB",
            "max peak RSS MB",
            "wall vs SDK engine",
            "wall vs raw obstore",
            "CPU vs raw obstore",
            "died at exit",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
